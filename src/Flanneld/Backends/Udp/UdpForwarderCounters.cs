namespace Flanneld.Backends.Udp;

/// <summary>
/// What the forwarder did, for metrics and tests. Updated with interlocked adds by the forwarding threads
/// (once per batch for the busy counters); read at any time.
/// </summary>
public sealed class UdpForwarderCounters
{
    private long _tunPacketsRead;
    private long _datagramsSent;
    private long _datagramsReceived;
    private long _tunPacketsWritten;
    private long _noRoute;
    private long _ttlExpired;
    private long _malformedFromTun;
    private long _malformedDatagrams;
    private long _sendErrors;
    private long _tunWriteErrors;
    private long _coalesced;

    /// <summary>Packets read from the TUN (a TSO super-segment counts once).</summary>
    public long TunPacketsRead => Volatile.Read(ref _tunPacketsRead);

    /// <summary>Datagrams (one IP packet each) handed to the kernel for sending.</summary>
    public long DatagramsSent => Volatile.Read(ref _datagramsSent);

    /// <summary>Datagrams received, including malformed ones.</summary>
    public long DatagramsReceived => Volatile.Read(ref _datagramsReceived);

    /// <summary>Writes to the TUN (a coalesced super-segment counts once), excluding ICMP errors.</summary>
    public long TunPacketsWritten => Volatile.Read(ref _tunPacketsWritten);

    /// <summary>Packets from the TUN for a destination without a route (answered with ICMP net unreachable).</summary>
    public long NoRoute => Volatile.Read(ref _noRoute);

    /// <summary>Packets dropped because their TTL ran out, in either direction.</summary>
    public long TtlExpired => Volatile.Read(ref _ttlExpired);

    /// <summary>Packets from the TUN that are not forwardable IPv4 (IPv6, short, bad offload header).</summary>
    public long MalformedFromTun => Volatile.Read(ref _malformedFromTun);

    /// <summary>Datagrams dropped because they do not hold exactly one valid IPv4 packet.</summary>
    public long MalformedDatagrams => Volatile.Read(ref _malformedDatagrams);

    public long SendErrors => Volatile.Read(ref _sendErrors);

    public long TunWriteErrors => Volatile.Read(ref _tunWriteErrors);

    /// <summary>Received TCP segments merged into a previous one before the TUN write.</summary>
    public long Coalesced => Volatile.Read(ref _coalesced);

    public override string ToString() =>
        $"tunRead={TunPacketsRead} sent={DatagramsSent} received={DatagramsReceived} tunWritten={TunPacketsWritten} " +
        $"noRoute={NoRoute} ttlExpired={TtlExpired} malformedTun={MalformedFromTun} malformedUdp={MalformedDatagrams} " +
        $"sendErrors={SendErrors} tunWriteErrors={TunWriteErrors} coalesced={Coalesced}";

    internal void AddTunPacketsRead(long n) => Interlocked.Add(ref _tunPacketsRead, n);

    internal void AddDatagramsSent(long n) => Interlocked.Add(ref _datagramsSent, n);

    internal void AddDatagramsReceived(long n) => Interlocked.Add(ref _datagramsReceived, n);

    internal void AddTunPacketsWritten(long n) => Interlocked.Add(ref _tunPacketsWritten, n);

    internal void AddNoRoute() => Interlocked.Increment(ref _noRoute);

    internal void AddTtlExpired() => Interlocked.Increment(ref _ttlExpired);

    internal void AddMalformedFromTun() => Interlocked.Increment(ref _malformedFromTun);

    internal void AddMalformedDatagram() => Interlocked.Increment(ref _malformedDatagrams);

    internal void AddSendError() => Interlocked.Increment(ref _sendErrors);

    internal void AddTunWriteError() => Interlocked.Increment(ref _tunWriteErrors);

    internal void AddCoalesced(long n) => Interlocked.Add(ref _coalesced, n);
}
