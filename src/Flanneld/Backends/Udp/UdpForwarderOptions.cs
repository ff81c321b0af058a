namespace Flanneld.Backends.Udp;

/// <summary>
/// Settings of the udp data path. The defaults are the fast path; each optimisation can be switched off on its own
/// (for the benchmark and as an escape hatch), and <see cref="Plain"/> is the one-packet-per-call baseline.
/// </summary>
public sealed record UdpForwarderOptions
{
    public const ushort DefaultPort = 8285;

    /// <summary>Public IPv4 (host order) the socket binds to; 0 binds all addresses.</summary>
    public uint BindAddress { get; init; }

    public ushort Port { get; init; } = DefaultPort;

    /// <summary>
    /// Source of the ICMP errors we send back through the TUN. Upstream uses the flannel0 address, but the kernel
    /// drops packets entering flannel0 from one of its own addresses (martian source, unless accept_local is set),
    /// so 0, the default, answers from the unreachable destination address itself, which always gets through.
    /// </summary>
    public uint IcmpSourceAddress { get; init; }

    /// <summary>Send each TUN super-segment's datagrams with UDP_SEGMENT (probed; falls back when missing).</summary>
    public bool UdpGso { get; init; } = true;

    /// <summary>Receive with UDP_GRO (probed).</summary>
    public bool UdpGro { get; init; } = true;

    /// <summary>Merge consecutive TCP segments into one TUN write (needs the TUN's virtio_net_hdr).</summary>
    public bool Coalesce { get; init; } = true;

    /// <summary>Messages per recvmmsg call.</summary>
    public int ReceiveBatch { get; init; } = 16;

    /// <summary>
    /// SO_RCVBUF/SO_SNDBUF for the socket; 0 keeps the kernel default. A limit, not an allocation: memory is only
    /// taken while datagrams queue. 16 MiB rather than 4: with 4 TCP streams 4 MiB overflowed (thousands of
    /// retransmits per 10 s benchmark run), 16 MiB did not (bench/udp/RESULTS.md).
    /// </summary>
    public int SocketBufferBytes { get; init; } = 16 << 20;

    /// <summary>
    /// How many times a forwarding thread that finds its TUN queue or socket empty yields the CPU and looks again
    /// before it sleeps in poll; 0 sleeps at once. Costs a sched_yield and an empty read per idle period; saves a
    /// sleep and a wakeup whenever the queue refills meanwhile (measured in bench/udp/RESULTS.md, round 3).
    /// </summary>
    public int YieldsBeforeSleep { get; init; } = 1;

    /// <summary>The baseline: one packet per read, send, receive and write, sleeping as soon as there is nothing to do. Pair it with a TUN opened without offload.</summary>
    public UdpForwarderOptions Plain() => this with { UdpGso = false, UdpGro = false, Coalesce = false, ReceiveBatch = 1, YieldsBeforeSleep = 0 };
}
