using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using Flannel.Linux.Interop;
using Flannel.Linux.Namespaces;

namespace Flannel.Linux.Netlink;

/// <summary>
/// A route-netlink connection: links, addresses, routes, neighbours and FDB entries of one network namespace.
/// Safe to share; requests are serialised. Kernel refusals surface as <see cref="NetlinkException"/>; the
/// <c>Try…</c> methods return false instead for the expected ones (already exists / already gone).
/// </summary>
public sealed class Rtnetlink : IDisposable
{
    private readonly NetlinkSocket _socket;
    private readonly SemaphoreSlim _lock = new(1, 1);

    private Rtnetlink(NetlinkSocket socket) => _socket = socket;

    /// <summary>Opens a connection to the calling process's network namespace.</summary>
    public static Rtnetlink Open() => new(NetlinkSocket.Open());

    /// <summary>Opens a connection bound for life to <paramref name="networkNamespace"/>; the process does not move.</summary>
    public static Rtnetlink Open(NetworkNamespace networkNamespace)
    {
        ArgumentNullException.ThrowIfNull(networkNamespace);
        return new(networkNamespace.Run(() => NetlinkSocket.Open()));
    }

    // ---- links ----

    public Task<IReadOnlyList<Link>> ListLinksAsync(CancellationToken cancellationToken) =>
        DumpAsync("list links", (ref NetlinkWriter w) => LinkCodec.WriteDump(ref w, 0), LinkCodec.Parser, cancellationToken);

    /// <summary>The link called <paramref name="name"/>, or null when there is none.</summary>
    public Task<Link?> FindLinkAsync(string name, CancellationToken cancellationToken)
    {
        LinkName.Validate(name, "link name");
        return FindAsync("get link", "link " + name, (ref NetlinkWriter w, uint seq) => LinkCodec.WriteGet(ref w, seq, 0, name), LinkCodec.Parser, cancellationToken);
    }

    /// <summary>The link with index <paramref name="index"/>, or null when there is none.</summary>
    public Task<Link?> FindLinkAsync(int index, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(index);
        return FindAsync("get link", "index " + index.ToString(CultureInfo.InvariantCulture), (ref NetlinkWriter w, uint seq) => LinkCodec.WriteGet(ref w, seq, index, null), LinkCodec.Parser, cancellationToken);
    }

    /// <summary>The link called <paramref name="name"/>; throws <see cref="NetlinkException"/> (ENODEV) when there is none.</summary>
    public async Task<Link> GetLinkAsync(string name, CancellationToken cancellationToken) =>
        await FindLinkAsync(name, cancellationToken).ConfigureAwait(false)
        ?? throw new NetlinkException("get", "link " + name, Errno.ENODEV, null);

    /// <summary>Creates a link (fails with EEXIST when the name is taken) and returns it as the kernel reports it.</summary>
    public async Task<Link> CreateLinkAsync(LinkSpec spec, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(spec);
        using var batch = new NetlinkBatch();
        (await ExecuteAsync(batch.CreateLink(spec), cancellationToken).ConfigureAwait(false)).ThrowIfFailed();
        return await GetLinkAsync(spec.Name, cancellationToken).ConfigureAwait(false);
    }

    public Task ChangeLinkAsync(int index, LinkChange change, CancellationToken cancellationToken) =>
        RunAsync(b => b.ChangeLink(index, change), cancellationToken);

    public Task SetLinkUpAsync(int index, CancellationToken cancellationToken) =>
        ChangeLinkAsync(index, new LinkChange { Up = true }, cancellationToken);

    public Task SetLinkDownAsync(int index, CancellationToken cancellationToken) =>
        ChangeLinkAsync(index, new LinkChange { Up = false }, cancellationToken);

    public Task SetLinkMtuAsync(int index, int mtu, CancellationToken cancellationToken) =>
        ChangeLinkAsync(index, new LinkChange { Mtu = mtu }, cancellationToken);

    public Task SetLinkHardwareAddressAsync(int index, System.Net.NetworkInformation.PhysicalAddress address, CancellationToken cancellationToken) =>
        ChangeLinkAsync(index, new LinkChange { HardwareAddress = address }, cancellationToken);

    public Task DeleteLinkAsync(int index, CancellationToken cancellationToken) =>
        RunAsync(b => b.DeleteLink(index, NetlinkTolerance.None), cancellationToken);

    /// <summary>Deletes the link called <paramref name="name"/>; false when there was none.</summary>
    public async Task<bool> TryDeleteLinkAsync(string name, CancellationToken cancellationToken)
    {
        Link? link = await FindLinkAsync(name, cancellationToken).ConfigureAwait(false);
        return link is not null && await TryRunAsync(b => b.DeleteLink(link.Index), cancellationToken).ConfigureAwait(false);
    }

    // ---- addresses ----

    public Task AddAddressAsync(int interfaceIndex, IpPrefix prefix, CancellationToken cancellationToken) =>
        RunAsync(b => b.AddAddress(interfaceIndex, prefix), cancellationToken);

    public Task ReplaceAddressAsync(int interfaceIndex, IpPrefix prefix, CancellationToken cancellationToken) =>
        RunAsync(b => b.ReplaceAddress(interfaceIndex, prefix), cancellationToken);

    public Task DeleteAddressAsync(int interfaceIndex, IpPrefix prefix, CancellationToken cancellationToken) =>
        RunAsync(b => b.DeleteAddress(interfaceIndex, prefix, NetlinkTolerance.None), cancellationToken);

    public Task<bool> TryDeleteAddressAsync(int interfaceIndex, IpPrefix prefix, CancellationToken cancellationToken) =>
        TryRunAsync(b => b.DeleteAddress(interfaceIndex, prefix), cancellationToken);

    /// <summary>Addresses of one family (or all: <see cref="AddressFamily.Unspecified"/>), optionally of one link (index 0: all).</summary>
    public async Task<IReadOnlyList<InterfaceAddress>> ListAddressesAsync(AddressFamily family, int interfaceIndex, CancellationToken cancellationToken)
    {
        byte af = FamilyByte(family);
        IReadOnlyList<InterfaceAddress> all = await DumpAsync("list addresses", (ref NetlinkWriter w) => AddressCodec.WriteDump(ref w, 0, af, interfaceIndex), AddressCodec.Parser, cancellationToken).ConfigureAwait(false);
        return interfaceIndex == 0 ? all : all.Where(a => a.InterfaceIndex == interfaceIndex).ToList();
    }

    // ---- routes ----

    public Task AddRouteAsync(Route route, CancellationToken cancellationToken) =>
        RunAsync(b => b.AddRoute(route), cancellationToken);

    public Task ReplaceRouteAsync(Route route, CancellationToken cancellationToken) =>
        RunAsync(b => b.ReplaceRoute(route), cancellationToken);

    public Task DeleteRouteAsync(Route route, CancellationToken cancellationToken) =>
        RunAsync(b => b.DeleteRoute(route, NetlinkTolerance.None), cancellationToken);

    /// <summary>Deletes a route; false when there was no such route (ESRCH).</summary>
    public Task<bool> TryDeleteRouteAsync(Route route, CancellationToken cancellationToken) =>
        TryRunAsync(b => b.DeleteRoute(route), cancellationToken);

    /// <summary>Routes of one family in the main table.</summary>
    public Task<IReadOnlyList<Route>> ListRoutesAsync(AddressFamily family, CancellationToken cancellationToken) =>
        ListRoutesAsync(family, Nl.RT_TABLE_MAIN, cancellationToken);

    /// <summary>Routes of one family (or both: <see cref="AddressFamily.Unspecified"/>) in one table.</summary>
    public Task<IReadOnlyList<Route>> ListRoutesAsync(AddressFamily family, uint table, CancellationToken cancellationToken) =>
        ListAsync<Route>((each, restart) => VisitRoutesAsync(family, table, each, restart, cancellationToken));

    /// <summary>
    /// Passes every route of one family in the main table to <paramref name="each"/> as the kernel dumps it, keeping
    /// none. A dump the kernel interrupts (the table changed meanwhile) is read again, so a route may be seen twice.
    /// </summary>
    public Task VisitRoutesAsync(AddressFamily family, Action<Route> each, CancellationToken cancellationToken) =>
        VisitRoutesAsync(family, Nl.RT_TABLE_MAIN, each, restart: null, cancellationToken);

    private Task VisitRoutesAsync(AddressFamily family, uint table, Action<Route> each, Action? restart, CancellationToken cancellationToken)
    {
        byte af = FamilyByte(family);
        return DumpAsync("list routes", (ref NetlinkWriter w) => RouteCodec.WriteDump(ref w, 0, af), RouteCodec.Parser, r =>
        {
            if (r.Table == table)
            {
                each(r);
            }
        }, restart, cancellationToken);
    }

    /// <summary>Which way the kernel would send a packet to <paramref name="destination"/> (<c>ip route get</c>).</summary>
    public async Task<RouteLookup> GetRouteAsync(IPAddress destination, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(destination);
        return await FindAsync("get route to", destination.ToString(), (ref NetlinkWriter w, uint seq) => RouteCodec.WriteGet(ref w, seq, destination), RouteCodec.LookupParser, cancellationToken, throwOnMissing: true).ConfigureAwait(false)
            ?? throw new NetlinkProtocolException($"no reply to route get {destination}");
    }

    // ---- neighbours ----

    public Task ReplaceNeighbourAsync(Neighbour neighbour, CancellationToken cancellationToken) =>
        RunAsync(b => b.ReplaceNeighbour(neighbour), cancellationToken);

    public Task DeleteNeighbourAsync(Neighbour neighbour, CancellationToken cancellationToken) =>
        RunAsync(b => b.DeleteNeighbour(neighbour, NetlinkTolerance.None), cancellationToken);

    public Task<bool> TryDeleteNeighbourAsync(Neighbour neighbour, CancellationToken cancellationToken) =>
        TryRunAsync(b => b.DeleteNeighbour(neighbour), cancellationToken);

    /// <summary>ARP (IPv4) or NDP (IPv6) entries, optionally of one link (index 0: all).</summary>
    public Task<IReadOnlyList<Neighbour>> ListNeighboursAsync(AddressFamily family, int interfaceIndex, CancellationToken cancellationToken) =>
        ListAsync<Neighbour>((each, restart) => VisitNeighboursAsync(family, interfaceIndex, each, restart, cancellationToken));

    /// <summary>Passes neighbours to <paramref name="each"/> as they are dumped, as <see cref="VisitRoutesAsync(AddressFamily, Action{Route}, CancellationToken)"/> does routes.</summary>
    public Task VisitNeighboursAsync(AddressFamily family, int interfaceIndex, Action<Neighbour> each, CancellationToken cancellationToken) =>
        VisitNeighboursAsync(family, interfaceIndex, each, restart: null, cancellationToken);

    private Task VisitNeighboursAsync(AddressFamily family, int interfaceIndex, Action<Neighbour> each, Action? restart, CancellationToken cancellationToken)
    {
        byte af = FamilyByte(family);
        return DumpAsync("list neighbours", (ref NetlinkWriter w) => NeighbourCodec.WriteDump(ref w, 0, af, interfaceIndex), NeighbourCodec.NeighbourParser, n =>
        {
            if (interfaceIndex == 0 || n.InterfaceIndex == interfaceIndex)
            {
                each(n);
            }
        }, restart, cancellationToken);
    }

    // ---- bridge FDB ----

    public Task ReplaceFdbAsync(FdbEntry entry, CancellationToken cancellationToken) =>
        RunAsync(b => b.ReplaceFdb(entry), cancellationToken);

    public Task DeleteFdbAsync(FdbEntry entry, CancellationToken cancellationToken) =>
        RunAsync(b => b.DeleteFdb(entry, NetlinkTolerance.None), cancellationToken);

    public Task<bool> TryDeleteFdbAsync(FdbEntry entry, CancellationToken cancellationToken) =>
        TryRunAsync(b => b.DeleteFdb(entry), cancellationToken);

    /// <summary>FDB entries (<c>bridge fdb show</c>), optionally of one device (index 0: all).</summary>
    public Task<IReadOnlyList<FdbEntry>> ListFdbAsync(int interfaceIndex, CancellationToken cancellationToken) =>
        ListAsync<FdbEntry>((each, restart) => VisitFdbAsync(interfaceIndex, each, restart, cancellationToken));

    /// <summary>Passes FDB entries to <paramref name="each"/> as they are dumped, as <see cref="VisitRoutesAsync(AddressFamily, Action{Route}, CancellationToken)"/> does routes.</summary>
    public Task VisitFdbAsync(int interfaceIndex, Action<FdbEntry> each, CancellationToken cancellationToken) =>
        VisitFdbAsync(interfaceIndex, each, restart: null, cancellationToken);

    private Task VisitFdbAsync(int interfaceIndex, Action<FdbEntry> each, Action? restart, CancellationToken cancellationToken) =>
        DumpAsync("list fdb", (ref NetlinkWriter w) => NeighbourCodec.WriteDump(ref w, 0, Nl.AF_BRIDGE, interfaceIndex), NeighbourCodec.FdbParser, f =>
        {
            if (interfaceIndex == 0 || f.InterfaceIndex == interfaceIndex)
            {
                each(f);
            }
        }, restart, cancellationToken);

    // ---- batches ----

    /// <summary>
    /// Sends every request of <paramref name="batch"/> pipelined (many per datagram) and collects one ack per request.
    /// Failures are reported in the result, not thrown; call <see cref="NetlinkBatchResult.ThrowIfFailed"/> to throw.
    /// </summary>
    public async Task<NetlinkBatchResult> ExecuteAsync(NetlinkBatch batch, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(batch);
        if (batch.Count == 0)
        {
            return new NetlinkBatchResult([], []);
        }

        NetlinkAck[] acks;
        await _lock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            uint first = _socket.NextSequence(batch.Count);
            batch.Number(first);
            acks = await _socket.ExecuteAsync(batch.Buffer, batch.Offsets, first, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _lock.Release();
        }

        var errnos = new int[acks.Length];
        List<int>? failed = null;
        for (int i = 0; i < acks.Length; i++)
        {
            errnos[i] = acks[i].Errno;
            if (acks[i].Errno != 0 && !IsTolerated(acks[i].Errno, batch.Items[i].Tolerance))
            {
                (failed ??= []).Add(i);
            }
        }

        if (failed is null)
        {
            return new NetlinkBatchResult(errnos, []);
        }

        Func<int, string> linkName = await LinkNamesAsync(cancellationToken).ConfigureAwait(false);
        var failures = failed.Select(i => new NetlinkException(
            $"{batch.Items[i].Operation}",
            TargetDescription.Describe(batch.Items[i].Target, linkName),
            acks[i].Errno,
            acks[i].Message)).ToList();
        return new NetlinkBatchResult(errnos, failures);
    }

    private static bool IsTolerated(int errno, NetlinkTolerance tolerance) =>
        ((tolerance & NetlinkTolerance.AlreadyExists) != 0 && errno == Errno.EEXIST)
        || ((tolerance & NetlinkTolerance.NotFound) != 0 && errno is Errno.ENOENT or Errno.ESRCH or Errno.ENODEV or Errno.EADDRNOTAVAIL);

    /// <summary>Index-to-name for error messages; fetched only when something failed.</summary>
    private async Task<Func<int, string>> LinkNamesAsync(CancellationToken cancellationToken)
    {
        Dictionary<int, string> names;
        try
        {
            names = (await ListLinksAsync(cancellationToken).ConfigureAwait(false)).ToDictionary(l => l.Index, l => l.Name);
        }
        catch (NetlinkException)
        {
            names = [];
        }

        return index => names.TryGetValue(index, out string? name) ? name : "index " + index.ToString(CultureInfo.InvariantCulture);
    }

    private async Task RunAsync(Action<NetlinkBatch> build, CancellationToken cancellationToken)
    {
        using var batch = new NetlinkBatch();
        build(batch);
        (await ExecuteAsync(batch, cancellationToken).ConfigureAwait(false)).ThrowIfFailed();
    }

    /// <summary>Runs one tolerant request; false when the kernel answered with a tolerated error.</summary>
    private async Task<bool> TryRunAsync(Action<NetlinkBatch> build, CancellationToken cancellationToken)
    {
        using var batch = new NetlinkBatch();
        build(batch);
        NetlinkBatchResult result = await ExecuteAsync(batch, cancellationToken).ConfigureAwait(false);
        result.ThrowIfFailed();
        return result.ErrnoAt(0) == 0;
    }

    private delegate void RequestWriter(ref NetlinkWriter writer, uint sequence);

    private delegate void DumpRequestWriter(ref NetlinkWriter writer);

    private async Task<T?> FindAsync<T>(string operation, string target, RequestWriter write, MessageParser<T> parse, CancellationToken cancellationToken, bool throwOnMissing = false)
        where T : class
    {
        using var request = new NetlinkBuffer(256);
        await _lock.WaitAsync(cancellationToken).ConfigureAwait(false);
        (T? Value, NetlinkAck Error) reply;
        try
        {
            uint sequence = _socket.NextSequence();
            Build(request, write, sequence);
            reply = await _socket.QueryAsync(request, sequence, parse, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _lock.Release();
        }

        if (reply.Error.Errno == 0)
        {
            return reply.Value;
        }

        if (!throwOnMissing && reply.Error.Errno is Errno.ENODEV or Errno.ENOENT)
        {
            return null;
        }

        throw new NetlinkException(operation, target, reply.Error.Errno, reply.Error.Message);
    }

    private static void Build(NetlinkBuffer buffer, RequestWriter write, uint sequence)
    {
        var writer = new NetlinkWriter(buffer);
        write(ref writer, sequence);
    }

    /// <summary>A dump's items as a list; an interrupted dump read again starts the list over.</summary>
    private static async Task<IReadOnlyList<T>> ListAsync<T>(Func<Action<T>, Action, Task> visit)
    {
        var items = new List<T>();
        await visit(items.Add, items.Clear).ConfigureAwait(false);
        return items;
    }

    private Task<IReadOnlyList<T>> DumpAsync<T>(string operation, DumpRequestWriter write, MessageParser<T> parse, CancellationToken cancellationToken) =>
        ListAsync<T>((each, restart) => DumpAsync(operation, write, parse, each, restart, cancellationToken));

    private async Task DumpAsync<T>(string operation, DumpRequestWriter write, MessageParser<T> parse, Action<T> each, Action? restart, CancellationToken cancellationToken)
    {
        using var request = new NetlinkBuffer(256);
        var writer = new NetlinkWriter(request);
        write(ref writer);
        NetlinkAck error;
        await _lock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            error = await _socket.DumpAsync(request, parse, each, restart, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _lock.Release();
        }

        if (error.Errno != 0)
        {
            throw new NetlinkException(operation, "", error.Errno, error.Message);
        }
    }

    private static byte FamilyByte(AddressFamily family) => family switch
    {
        AddressFamily.Unspecified => Nl.AF_UNSPEC,
        AddressFamily.InterNetwork => Nl.AF_INET,
        AddressFamily.InterNetworkV6 => Nl.AF_INET6,
        _ => throw new ArgumentOutOfRangeException(nameof(family), family, "only IPv4, IPv6 or Unspecified"),
    };

    // ---- link events ----

    /// <summary>
    /// Link notifications from the calling process's namespace, or <paramref name="networkNamespace"/>'s. The
    /// subscription starts when enumeration starts; use <see cref="LinkSubscription.Open"/> to subscribe first and
    /// enumerate later (no gap between checking a device and watching it).
    /// </summary>
    public static async IAsyncEnumerable<LinkEvent> WatchLinksAsync(
        NetworkNamespace? networkNamespace, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        using LinkSubscription subscription = LinkSubscription.Open(networkNamespace);
        await foreach (LinkEvent e in subscription.ReadAllAsync(cancellationToken).ConfigureAwait(false))
        {
            yield return e;
        }
    }

    public void Dispose()
    {
        _socket.Dispose();
        _lock.Dispose();
    }
}
