using System.Buffers.Binary;

namespace Flannel.Linux.Netlink;

/// <summary>Which kernel errors count as success for one request in a batch.</summary>
[Flags]
public enum NetlinkTolerance
{
    None = 0,

    /// <summary>EEXIST: creating something that is already there.</summary>
    AlreadyExists = 1,

    /// <summary>ENOENT, ESRCH, ENODEV, EADDRNOTAVAIL: deleting something that is already gone.</summary>
    NotFound = 2,
}

/// <summary>
/// Many rtnetlink requests sent together (pipelined: several per datagram, acks collected afterwards), e.g.
/// 10,000 routes + neighbours + FDB entries in one go. Build it, then run it with <see cref="Rtnetlink.ExecuteAsync"/>.
/// Requests are applied in order; a failed one does not stop the rest.
/// </summary>
public sealed class NetlinkBatch : IDisposable
{
    private readonly NetlinkBuffer _buffer = new(16 * 1024);
    private readonly List<int> _offsets = [];
    private readonly List<BatchItem> _items = [];

    internal readonly record struct BatchItem(string Operation, object Target, NetlinkTolerance Tolerance);

    public int Count => _items.Count;

    internal NetlinkBuffer Buffer => _buffer;

    internal IReadOnlyList<int> Offsets => _offsets;

    internal IReadOnlyList<BatchItem> Items => _items;

    public NetlinkBatch ReplaceRoute(Route route) => Add("replace", route, NetlinkTolerance.None, route, static (ref NetlinkWriter w, Route r) =>
        RouteCodec.WriteModify(ref w, Nl.NLM_F_REQUEST | Nl.NLM_F_ACK | Nl.NLM_F_CREATE | Nl.NLM_F_REPLACE, 0, r));

    public NetlinkBatch AddRoute(Route route, NetlinkTolerance tolerance = NetlinkTolerance.None) => Add("add", route, tolerance, route, static (ref NetlinkWriter w, Route r) =>
        RouteCodec.WriteModify(ref w, Nl.NLM_F_REQUEST | Nl.NLM_F_ACK | Nl.NLM_F_CREATE | Nl.NLM_F_EXCL, 0, r));

    public NetlinkBatch DeleteRoute(Route route, NetlinkTolerance tolerance = NetlinkTolerance.NotFound) => Add("delete", route, tolerance, route, static (ref NetlinkWriter w, Route r) =>
        RouteCodec.WriteDelete(ref w, 0, r));

    public NetlinkBatch ReplaceNeighbour(Neighbour neighbour) => Add("replace", neighbour, NetlinkTolerance.None, neighbour, static (ref NetlinkWriter w, Neighbour n) =>
        NeighbourCodec.WriteNeighbour(ref w, Nl.RTM_NEWNEIGH, NeighbourCodec.ReplaceFlags, 0, n));

    public NetlinkBatch DeleteNeighbour(Neighbour neighbour, NetlinkTolerance tolerance = NetlinkTolerance.NotFound) => Add("delete", neighbour, tolerance, neighbour, static (ref NetlinkWriter w, Neighbour n) =>
        NeighbourCodec.WriteNeighbour(ref w, Nl.RTM_DELNEIGH, Nl.NLM_F_REQUEST | Nl.NLM_F_ACK, 0, n));

    public NetlinkBatch ReplaceFdb(FdbEntry entry) => Add("replace", entry, NetlinkTolerance.None, entry, static (ref NetlinkWriter w, FdbEntry f) =>
        NeighbourCodec.WriteFdb(ref w, Nl.RTM_NEWNEIGH, NeighbourCodec.ReplaceFlags, 0, f));

    /// <summary>Appends, rather than replaces: a vxlan device may hold several destinations for one MAC (the all-zero MAC).</summary>
    public NetlinkBatch AppendFdb(FdbEntry entry) => Add("append", entry, NetlinkTolerance.AlreadyExists, entry, static (ref NetlinkWriter w, FdbEntry f) =>
        NeighbourCodec.WriteFdb(ref w, Nl.RTM_NEWNEIGH, Nl.NLM_F_REQUEST | Nl.NLM_F_ACK | Nl.NLM_F_CREATE | Nl.NLM_F_APPEND, 0, f));

    public NetlinkBatch DeleteFdb(FdbEntry entry, NetlinkTolerance tolerance = NetlinkTolerance.NotFound) => Add("delete", entry, tolerance, entry, static (ref NetlinkWriter w, FdbEntry f) =>
        NeighbourCodec.WriteFdb(ref w, Nl.RTM_DELNEIGH, Nl.NLM_F_REQUEST | Nl.NLM_F_ACK, 0, f));

    public NetlinkBatch AddAddress(int interfaceIndex, IpPrefix prefix, NetlinkTolerance tolerance = NetlinkTolerance.None) =>
        Add("add", new AddressTarget(interfaceIndex, prefix), tolerance, (interfaceIndex, prefix), static (ref NetlinkWriter w, (int Index, IpPrefix Prefix) a) =>
            AddressCodec.WriteModify(ref w, Nl.RTM_NEWADDR, Nl.NLM_F_REQUEST | Nl.NLM_F_ACK | Nl.NLM_F_CREATE | Nl.NLM_F_EXCL, 0, a.Index, a.Prefix));

    public NetlinkBatch ReplaceAddress(int interfaceIndex, IpPrefix prefix) =>
        Add("replace", new AddressTarget(interfaceIndex, prefix), NetlinkTolerance.None, (interfaceIndex, prefix), static (ref NetlinkWriter w, (int Index, IpPrefix Prefix) a) =>
            AddressCodec.WriteModify(ref w, Nl.RTM_NEWADDR, Nl.NLM_F_REQUEST | Nl.NLM_F_ACK | Nl.NLM_F_CREATE | Nl.NLM_F_REPLACE, 0, a.Index, a.Prefix));

    public NetlinkBatch DeleteAddress(int interfaceIndex, IpPrefix prefix, NetlinkTolerance tolerance = NetlinkTolerance.NotFound) =>
        Add("delete", new AddressTarget(interfaceIndex, prefix), tolerance, (interfaceIndex, prefix), static (ref NetlinkWriter w, (int Index, IpPrefix Prefix) a) =>
            AddressCodec.WriteModify(ref w, Nl.RTM_DELADDR, Nl.NLM_F_REQUEST | Nl.NLM_F_ACK, 0, a.Index, a.Prefix));

    public NetlinkBatch CreateLink(LinkSpec spec, NetlinkTolerance tolerance = NetlinkTolerance.None)
    {
        ArgumentNullException.ThrowIfNull(spec);
        return Add("create", spec, tolerance, spec, static (ref NetlinkWriter w, LinkSpec l) => LinkCodec.WriteCreate(ref w, 0, l));
    }

    public NetlinkBatch ChangeLink(int index, LinkChange change)
    {
        ArgumentNullException.ThrowIfNull(change);
        return Add("change", new LinkTarget(index), NetlinkTolerance.None, (index, change), static (ref NetlinkWriter w, (int Index, LinkChange Change) c) =>
            LinkCodec.WriteChange(ref w, 0, c.Index, c.Change));
    }

    public NetlinkBatch DeleteLink(int index, NetlinkTolerance tolerance = NetlinkTolerance.NotFound) =>
        Add("delete", new LinkTarget(index), tolerance, index, static (ref NetlinkWriter w, int i) => LinkCodec.WriteDelete(ref w, 0, i));

    /// <summary>Empties the batch for reuse, keeping its buffers (a large sync sends many batches one after another).</summary>
    public void Clear()
    {
        _buffer.Clear();
        _offsets.Clear();
        _items.Clear();
    }

    /// <summary>Writes one request. The writers are static lambdas: no closure or delegate is allocated per request.</summary>
    internal delegate void Writer<TState>(ref NetlinkWriter writer, TState state);

    private NetlinkBatch Add<TState>(string operation, object target, NetlinkTolerance tolerance, TState state, Writer<TState> write)
    {
        ArgumentNullException.ThrowIfNull(target);
        _offsets.Add(_buffer.Length);
        var writer = new NetlinkWriter(_buffer);
        write(ref writer, state);
        _items.Add(new BatchItem(operation, target, tolerance));
        return this;
    }

    /// <summary>Gives the requests consecutive sequence numbers from <paramref name="first"/>.</summary>
    internal void Number(uint first)
    {
        for (int i = 0; i < _offsets.Count; i++)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(_buffer.At(_offsets[i] + 8, 4), first + (uint)i);
        }
    }

    public void Dispose() => _buffer.Dispose();
}

/// <summary>An address on a link, as a batch target (for error messages).</summary>
internal sealed record AddressTarget(int InterfaceIndex, IpPrefix Prefix);

/// <summary>A link by index, as a batch target (for error messages).</summary>
internal sealed record LinkTarget(int Index);

/// <summary>What became of each request in a <see cref="NetlinkBatch"/>.</summary>
public sealed class NetlinkBatchResult
{
    private readonly int[] _errnos;

    internal NetlinkBatchResult(int[] errnos, IReadOnlyList<NetlinkException> failures)
    {
        _errnos = errnos;
        Failures = failures;
    }

    public int Count => _errnos.Length;

    /// <summary>Requests the kernel refused (tolerated errors excluded), in batch order.</summary>
    public IReadOnlyList<NetlinkException> Failures { get; }

    public bool Succeeded => Failures.Count == 0;

    /// <summary>The errno of request <paramref name="index"/> (0 for success), tolerated or not.</summary>
    public int ErrnoAt(int index) => _errnos[index];

    /// <summary>Throws the first failure, or an <see cref="AggregateException"/> of all when several failed.</summary>
    public void ThrowIfFailed()
    {
        if (Failures.Count == 1)
        {
            throw Failures[0];
        }

        if (Failures.Count > 1)
        {
            throw new AggregateException($"{Failures.Count} of {Count} netlink requests failed; first: {Failures[0].Message}", Failures);
        }
    }
}
