using System.ComponentModel;
using System.Runtime.InteropServices;
using Flannel.Linux.Packets;
using Flannel.Linux.Tun;
using Flannel.Linux.Udp;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Flanneld.Backends.Udp;

/// <summary>
/// The udp backend's data path, wire-compatible with upstream's proxy: every UDP datagram carries exactly one raw
/// IPv4 packet. Packets read from the TUN go to the next hop of their destination's subnet (ICMP net unreachable
/// back through the TUN when there is none); datagrams received go into the TUN. TTL is decremented both ways.
/// With the TUN's offloads the kernel hands over TCP super-segments, which are cut into MTU-sized packets and
/// sent with UDP_SEGMENT; received datagrams (UDP_GRO, recvmmsg) are merged back into super-segments.
/// One egress and one ingress thread per TUN queue; route updates never block them (see <see cref="UdpRouteTable"/>).
/// Wiring: <c>TunDevice.Open(new TunOptions())</c> and <see cref="Create"/> in the target namespace; give flannel0
/// <c>&lt;subnet&gt;.0/32</c>, MTU = underlay MTU - 28, link up and <c>&lt;Network&gt; dev flannel0</c>; <see cref="Start"/>;
/// per remote lease <c>Routes.Set(subnet, new NextHop(publicIp, port))</c> / <c>Routes.Remove(subnet)</c>;
/// <see cref="Dispose"/> then dispose the TUN.
/// </summary>
public sealed partial class UdpForwarder : IDisposable
{
    // Headers of the segments of one super-segment (at most 64 KiB of payload, even at a tiny MSS).
    private const int SegmentBufferSize = 256 * 1024;
    private const int CoalescerCapacity = 64;

    private readonly TunDevice _tun;
    private readonly UdpForwarderOptions _options;
    private readonly ILogger _logger;
    private readonly UdpTunnelSocket[] _sockets;
    private readonly StopEvent _stop;
    private readonly List<Thread> _threads = [];
    private bool _started;
    private int _lastSendErrno;

    private UdpForwarder(TunDevice tun, UdpForwarderOptions options, ILogger logger, UdpTunnelSocket[] sockets, StopEvent stop)
    {
        _tun = tun;
        _options = options;
        _logger = logger;
        _sockets = sockets;
        _stop = stop;
    }

    public UdpRouteTable Routes { get; } = new();

    public UdpForwarderCounters Counters { get; } = new();

    /// <summary>The UDP port actually bound (differs from the option only when it was 0).</summary>
    public ushort Port => _sockets[0].Port;

    public bool UsesTunOffload => _tun.HasVnetHeader;

    public bool UsesUdpGso => _options.UdpGso && _sockets[0].SupportsGso;

    public bool UsesUdpGro => _sockets[0].GroEnabled;

    public bool UsesCoalescing => _tun.HasVnetHeader && _options.Coalesce;

    /// <summary>
    /// Opens the UDP socket(s) in the calling thread's network namespace (one per TUN queue, SO_REUSEPORT when
    /// several). The caller keeps ownership of <paramref name="tun"/> and disposes it after this forwarder.
    /// </summary>
    public static UdpForwarder Create(TunDevice tun, UdpForwarderOptions options, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(tun);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.ReceiveBatch, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(options.YieldsBeforeSleep);
        var sockets = new List<UdpTunnelSocket>();
        var stop = new StopEvent();
        try
        {
            ushort port = options.Port;
            for (int i = 0; i < tun.QueueCount; i++)
            {
                UdpTunnelSocket socket = UdpTunnelSocket.Open(
                    options.BindAddress, port, tun.QueueCount > 1, options.UdpGso, options.UdpGro, options.SocketBufferBytes);
                sockets.Add(socket);
                port = socket.Port;
            }

            var forwarder = new UdpForwarder(tun, options, logger ?? NullLogger.Instance, [.. sockets], stop);
            sockets.Clear();
            return forwarder;
        }
        catch
        {
            stop.Dispose();
            throw;
        }
        finally
        {
            foreach (UdpTunnelSocket s in sockets)
            {
                s.Dispose();
            }
        }
    }

    /// <summary>Starts the forwarding threads (they need no namespace: they only use the descriptors).</summary>
    public void Start()
    {
        ObjectDisposedException.ThrowIf(_stop.IsSet, this);
        if (_started)
        {
            return;
        }

        _started = true;
        for (int q = 0; q < _tun.QueueCount; q++)
        {
            int queue = q;
            _threads.Add(new Thread(() => Run(() => EgressLoop(queue))) { IsBackground = true, Name = $"udp-egress-{q}" });
            _threads.Add(new Thread(() => Run(() => IngressLoop(queue))) { IsBackground = true, Name = $"udp-ingress-{q}" });
        }

        foreach (Thread t in _threads)
        {
            t.Start();
        }

        LogStarted(_logger, _tun.Name, Port, UsesTunOffload, UsesUdpGso, UsesUdpGro, UsesCoalescing, _tun.QueueCount);
    }

    /// <summary>Stops and joins the forwarding threads. Idempotent.</summary>
    public void Stop()
    {
        if (_stop.IsSet)
        {
            return;
        }

        _stop.Set();
        foreach (Thread t in _threads)
        {
            t.Join();
        }

        LogStopped(_logger, Counters);
    }

    public void Dispose()
    {
        Stop();
        foreach (UdpTunnelSocket s in _sockets)
        {
            s.Dispose();
        }

        _stop.Dispose();
    }

    private void Run(Action loop)
    {
        try
        {
            loop();
        }
        catch (Exception ex) when (ex is Win32Exception or InvalidOperationException or ArgumentException)
        {
            LogThreadFailed(_logger, Thread.CurrentThread.Name, ex);
        }
    }

    private void EgressLoop(int queue)
    {
        var sender = new UdpBatchSender(_sockets[queue].Handle, UsesUdpGso);
        byte[] frame = GC.AllocateArray<byte>(VirtioNetHeader.Size + TcpCoalescer.MaxPacket, pinned: true);
        byte[] segments = GC.AllocateArray<byte>(SegmentBufferSize, pinned: true);
        byte[] icmp = new byte[IcmpError.MaxLength];
        FileDescriptorHandle fd = _tun.Queue(queue);
        while (_stop.WaitReadable(fd))
        {
            long reads = 0;
            long sent = 0;
            int idle = 0;
            while (!_stop.IsSet)
            {
                int n = _tun.Read(queue, frame);
                if (n < 0)
                {
                    if (-n == Errno.EAgain)
                    {
                        if (YieldBeforeSleep(ref idle))
                        {
                            continue;
                        }

                        break;
                    }

                    if (-n == Errno.EIntr)
                    {
                        continue;
                    }

                    throw new Win32Exception(-n, $"read from {_tun.Name} failed");
                }

                idle = 0;
                reads++;
                sent += ForwardFromTun(queue, frame, n, segments, sender, icmp);
            }

            Counters.AddTunPacketsRead(reads);
            Counters.AddDatagramsSent(sent);
        }
    }

    /// <summary>
    /// On a dry descriptor, gives the CPU away (sched_yield) up to <see cref="UdpForwarderOptions.YieldsBeforeSleep"/>
    /// times and says to try again, before the caller sleeps in poll. The thread that feeds us (the sender's TCP
    /// stack, the other node's forwarder) often runs on the same CPU and refills the queue in that slot; sleeping
    /// instead costs a wakeup, on a VM an inter-processor interrupt, per batch (bench/udp/RESULTS.md, round 3).
    /// </summary>
    private bool YieldBeforeSleep(ref int idle)
    {
        if (idle >= _options.YieldsBeforeSleep)
        {
            return false;
        }

        idle++;
        Thread.Yield();
        return true;
    }

    /// <summary>Forwards one TUN read; returns the number of datagrams sent.</summary>
    private int ForwardFromTun(int queue, byte[] frame, int length, byte[] segments, UdpBatchSender sender, byte[] icmp)
    {
        int offset = _tun.HasVnetHeader ? VirtioNetHeader.Size : 0;
        if (length < offset + Ipv4.MinHeaderLength)
        {
            Counters.AddMalformedFromTun();
            return 0;
        }

        VirtioNetHeader vnet = _tun.HasVnetHeader ? VirtioNetHeader.Read(frame) : default;
        Span<byte> packet = frame.AsSpan(offset, length - offset);
        int ihl = Ipv4.HeaderLength(packet);
        int total = Ipv4.TotalLength(packet);
        if (Ipv4.Version(packet) != 4 || ihl < Ipv4.MinHeaderLength || total < ihl || total > packet.Length)
        {
            Counters.AddMalformedFromTun();
            return 0;
        }

        packet = packet[..total];
        if (!Routes.TryLookup(Ipv4.Destination(packet), out NextHop hop))
        {
            Counters.AddNoRoute();
            SendIcmp(queue, IcmpError.TypeDestinationUnreachable, IcmpError.CodeNetUnreachable, packet, icmp);
            return 0;
        }

        if (!Ipv4.DecrementTtl(packet))
        {
            Counters.AddTtlExpired();
            SendIcmp(queue, IcmpError.TypeTimeExceeded, IcmpError.CodeTtlExceeded, packet, icmp);
            return 0;
        }

        int sent;
        int errno;
        if (vnet.GsoKind == VirtioNetHeader.GsoTcpV4)
        {
            // Only the headers are built; each datagram's payload is sent from where the TUN read put it.
            int count = TcpSegmenter.SegmentHeaders(packet, vnet.GsoSize, segments, out int headerLength, out int lastPayload);
            if (count < 0)
            {
                Counters.AddMalformedFromTun();
                return 0;
            }

            sent = sender.SendGathered(segments, headerLength, frame, offset + headerLength, vnet.GsoSize, lastPayload, count, hop.Address, hop.Port, out errno);
        }
        else if (vnet.GsoKind != VirtioNetHeader.GsoNone)
        {
            Counters.AddMalformedFromTun();
            return 0;
        }
        else
        {
            if (vnet.NeedsChecksum && !ChecksumOffload.Complete(packet, vnet.ChecksumStart, vnet.ChecksumOffset))
            {
                Counters.AddMalformedFromTun();
                return 0;
            }

            sent = sender.Send(frame, offset, packet.Length, packet.Length, hop.Address, hop.Port, out errno);
        }

        if (errno != 0)
        {
            Counters.AddSendError();

            // Log a failure when it changes, not on every packet: a dead underlay would otherwise flood the log.
            if (errno != Errno.EAgain && errno != Errno.EConnRefused && errno != _lastSendErrno)
            {
                LogSendFailed(_logger, hop, errno);
            }

            _lastSendErrno = errno;
        }
        else if (_lastSendErrno != 0)
        {
            _lastSendErrno = 0;
        }

        return sent;
    }

    private void SendIcmp(int queue, byte type, byte code, ReadOnlySpan<byte> offender, byte[] buffer)
    {
        uint source = _options.IcmpSourceAddress != 0 ? _options.IcmpSourceAddress : Ipv4.Destination(offender);
        int length = IcmpError.Build(type, code, source, offender, buffer);
        if (length > 0 && _tun.WritePacket(queue, buffer.AsSpan(0, length)) < 0)
        {
            Counters.AddTunWriteError();
        }
    }

    private void IngressLoop(int queue)
    {
        var receiver = new UdpBatchReceiver(_sockets[queue].Handle, _options.ReceiveBatch, UdpBatchReceiver.BufferSize);
        TcpCoalescer? coalescer = _tun.HasVnetHeader ? new TcpCoalescer(CoalescerCapacity, _options.Coalesce) : null;
        FileDescriptorHandle fd = _sockets[queue].Handle;
        while (_stop.WaitReadable(fd))
        {
            int idle = 0;
            while (!_stop.IsSet)
            {
                int messages = receiver.Receive();
                if (messages < 0)
                {
                    if (-messages == Errno.EAgain)
                    {
                        if (YieldBeforeSleep(ref idle))
                        {
                            continue;
                        }

                        break;
                    }

                    if (-messages != Errno.EIntr)
                    {
                        LogReceiveFailed(_logger, -messages);
                    }

                    continue;
                }

                idle = 0;
                long received = 0;
                long written = 0;
                for (int i = 0; i < messages; i++)
                {
                    Span<byte> message = receiver.Message(i);
                    if (receiver.Truncated(i))
                    {
                        received++;
                        Counters.AddMalformedDatagram();
                        continue;
                    }

                    int segment = Math.Max(1, receiver.SegmentSize(i));
                    for (int at = 0; at < message.Length || (at == 0 && message.Length == 0); at += segment)
                    {
                        Span<byte> datagram = message.Slice(at, Math.Min(segment, message.Length - at));
                        received++;
                        PacketVerdict verdict = Ipv4Validator.Validate(datagram);
                        if (verdict != PacketVerdict.Ok)
                        {
                            Counters.AddMalformedDatagram();
                            LogMalformed(_logger, verdict, datagram.Length);
                            continue;
                        }

                        if (!Ipv4.DecrementTtl(datagram))
                        {
                            Counters.AddTtlExpired();
                            continue;
                        }

                        if (coalescer is null)
                        {
                            written += WriteTun(queue, datagram);
                        }
                        else if (!coalescer.Add(receiver.Buffer(i), at, datagram.Length))
                        {
                            written += Flush(queue, coalescer);
                            coalescer.Add(receiver.Buffer(i), at, datagram.Length);
                        }
                    }
                }

                if (coalescer is not null)
                {
                    written += Flush(queue, coalescer);
                }

                Counters.AddDatagramsReceived(received);
                Counters.AddTunPacketsWritten(written);
            }
        }
    }

    private int Flush(int queue, TcpCoalescer coalescer)
    {
        int written = 0;
        for (int i = 0; i < coalescer.Count; i++)
        {
            written += WriteTunGathered(queue, coalescer.Get(i));
        }

        Counters.AddCoalesced(coalescer.Merged);
        coalescer.Clear();
        return written;
    }

    private int WriteTun(int queue, ReadOnlySpan<byte> frame)
    {
        // A TUN write only fails with EAGAIN under memory pressure; a few retries, then drop like a full queue would.
        for (int attempt = 0; attempt < 3; attempt++)
        {
            int n = _tun.Write(queue, frame);
            if (n >= 0 || !TunWriteRetryable(n))
            {
                return n >= 0 ? 1 : 0;
            }
        }

        Counters.AddTunWriteError();
        return 0;
    }

    private int WriteTunGathered(int queue, ReadOnlySpan<PacketSlice> pieces)
    {
        for (int attempt = 0; attempt < 3; attempt++)
        {
            int n = _tun.WriteGathered(queue, pieces);
            if (n >= 0 || !TunWriteRetryable(n))
            {
                return n >= 0 ? 1 : 0;
            }
        }

        Counters.AddTunWriteError();
        return 0;
    }

    /// <summary>True for EAGAIN/EINTR; anything else is logged and counted, and the packet dropped.</summary>
    private bool TunWriteRetryable(int result)
    {
        if (-result == Errno.EAgain || -result == Errno.EIntr)
        {
            return true;
        }

        LogTunWriteFailed(_logger, _tun.Name, -result);
        Counters.AddTunWriteError();
        return false;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "udp forwarder on {Tun}, port {Port}: tun offload={TunOffload}, udp gso={Gso}, udp gro={Gro}, coalescing={Coalesce}, queues={Queues}")]
    private static partial void LogStarted(ILogger logger, string tun, int port, bool tunOffload, bool gso, bool gro, bool coalesce, int queues);

    [LoggerMessage(Level = LogLevel.Information, Message = "udp forwarder stopped: {Counters}")]
    private static partial void LogStopped(ILogger logger, UdpForwarderCounters counters);

    [LoggerMessage(Level = LogLevel.Error, Message = "udp forwarder thread {Thread} failed")]
    private static partial void LogThreadFailed(ILogger logger, string? thread, Exception ex);

    [LoggerMessage(Level = LogLevel.Warning, Message = "udp send to {NextHop} failed: errno {Errno}")]
    private static partial void LogSendFailed(ILogger logger, NextHop nextHop, int errno);

    [LoggerMessage(Level = LogLevel.Warning, Message = "udp receive failed: errno {Errno}")]
    private static partial void LogReceiveFailed(ILogger logger, int errno);

    [LoggerMessage(Level = LogLevel.Debug, Message = "dropped malformed datagram ({Verdict}, {Length} bytes)")]
    private static partial void LogMalformed(ILogger logger, PacketVerdict verdict, int length);

    [LoggerMessage(Level = LogLevel.Warning, Message = "write to {Tun} failed: errno {Errno}")]
    private static partial void LogTunWriteFailed(ILogger logger, string tun, int errno);
}
