using Flannel.Testing;
using System.Buffers.Binary;
using Flannel.Core.Net;
using Flannel.Linux.Packets;
using Flannel.Linux.Tests.Packets;
using Flannel.Linux.Tun;

namespace Flannel.Linux.Tests.Tun;

public class TunDeviceTests
{
    private static readonly uint TunAddress = Ip4.Parse("198.18.1.0");
    private static readonly uint Remote = Ip4.Parse("198.18.2.5");

    [Fact]
    public void Open_WithOffload_NegotiatesVnetHeaderAndTso()
    {
        using ShellTestNamespace ns = ShellTestNamespace.Create("tun-offload");
        using TunDevice tun = ns.Enter(() => TunDevice.Open(new TunOptions { Name = "flannel0" }));

        Assert.Equal("flannel0", tun.Name);
        Assert.True(tun.HasVnetHeader);
        Assert.Equal(TunOffloads.Checksum | TunOffloads.Tso4 | TunOffloads.Tso6, tun.Offloads);
        string link = ns.Ip("-d link show flannel0");
        Assert.Contains("tun type tun pi off vnet_hdr on", link, StringComparison.Ordinal);
    }

    [Fact]
    public void Open_Plain_MatchesUpstreamDevice()
    {
        using ShellTestNamespace ns = ShellTestNamespace.Create("tun-plain");
        using TunDevice tun = ns.Enter(() => TunDevice.Open(new TunOptions { Name = "flannel%d", Offload = false }));

        Assert.Equal("flannel0", tun.Name);
        Assert.False(tun.HasVnetHeader);
        Assert.Contains("tun type tun pi off vnet_hdr off", ns.Ip("-d link show flannel0"), StringComparison.Ordinal);
    }

    [Fact]
    public void Open_MultiQueue_OpensOneDescriptorPerQueue()
    {
        using ShellTestNamespace ns = ShellTestNamespace.Create("tun-mq");
        using TunDevice tun = ns.Enter(() => TunDevice.Open(new TunOptions { Queues = 2 }));
        Assert.Equal(2, tun.QueueCount);
        Assert.Contains("multi_queue", ns.Ip("-d link show flannel0"), StringComparison.Ordinal);
    }

    [Fact]
    public void Dispose_RemovesDevice()
    {
        using ShellTestNamespace ns = ShellTestNamespace.Create("tun-dispose");
        TunDevice tun = ns.Enter(() => TunDevice.Open(new TunOptions()));
        tun.Dispose();
        Assert.DoesNotContain("flannel0", ns.Ip("link show"), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task WriteEchoRequest_KernelRepliesThroughTun(bool offload)
    {
        using ShellTestNamespace ns = ShellTestNamespace.Create(offload ? "tun-echo-o" : "tun-echo-p");
        using TunDevice tun = ns.Enter(() => TunDevice.Open(new TunOptions { Offload = offload }));
        ns.Ip("addr add 198.18.1.0/32 dev flannel0");
        ns.Ip("link set flannel0 mtu 1472 up");
        ns.Ip("route add 198.18.0.0/16 dev flannel0");

        byte[] echo = PacketBuilder.Icmp(8, 0, src: Remote, dst: TunAddress);
        Assert.Equal(echo.Length, tun.WritePacket(0, echo));

        byte[] reply = await ReadUntilAsync(tun, p => Ipv4.Protocol(p) == Ipv4.ProtocolIcmp);
        Assert.Equal(TunAddress, Ipv4.Source(reply));
        Assert.Equal(Remote, Ipv4.Destination(reply));
        Assert.Equal(0, reply[20]);
    }

    [Fact]
    public async Task WriteGathered_EchoRequestInPieces_KernelRepliesWithTheWholePayload()
    {
        using ShellTestNamespace ns = ShellTestNamespace.Create("tun-gather");
        using TunDevice tun = ns.Enter(() => TunDevice.Open(new TunOptions()));
        ns.Ip("addr add 198.18.1.0/32 dev flannel0");
        ns.Ip("link set flannel0 mtu 1472 up");
        ns.Ip("route add 198.18.0.0/16 dev flannel0");

        // virtio_net_hdr, IP + ICMP headers, and the payload in two slices of a larger pinned buffer.
        var echo = new byte[28 + 200];
        PacketBuilder.WriteIpHeader(echo, 20, 9, 64, Ipv4.ProtocolIcmp, Remote, TunAddress);
        echo[20] = 8;
        for (int i = 28; i < echo.Length; i++)
        {
            echo[i] = (byte)i;
        }

        BinaryPrimitives.WriteUInt16BigEndian(echo.AsSpan(22), InternetChecksum.Compute(echo.AsSpan(20)));
        byte[] head = GC.AllocateArray<byte>(VirtioNetHeader.Size + 28, pinned: true);
        echo.AsSpan(0, 28).CopyTo(head.AsSpan(VirtioNetHeader.Size));
        byte[] body = GC.AllocateArray<byte>(100 + echo.Length, pinned: true);
        echo.AsSpan(28).CopyTo(body.AsSpan(100));
        int split = (echo.Length - 28) / 2;
        PacketSlice[] pieces = [new(head, 0, head.Length), new(body, 100, split), new(body, 100 + split, echo.Length - 28 - split)];

        Assert.Equal(VirtioNetHeader.Size + echo.Length, tun.WriteGathered(0, pieces));

        byte[] reply = await ReadUntilAsync(tun, p => Ipv4.Protocol(p) == Ipv4.ProtocolIcmp);
        Assert.Equal(TunAddress, Ipv4.Source(reply));
        Assert.Equal(0, reply[20]);
        Assert.Equal(echo.AsSpan(28).ToArray(), reply.AsSpan(28).ToArray());
    }

    [Fact]
    public async Task LocalTcpSend_WithOffload_ArrivesAsGsoSuperSegment()
    {
        using ShellTestNamespace ns = ShellTestNamespace.Create("tun-tso");
        using TunDevice tun = ns.Enter(() => TunDevice.Open(new TunOptions()));
        ns.Ip("addr add 198.18.1.0/32 dev flannel0");
        ns.Ip("link set flannel0 mtu 1472 up");
        ns.Ip("route add 198.18.0.0/16 dev flannel0");

        // Play the remote TCP peer by hand: answer the SYN, then watch how the kernel hands over the data.
        using var client = ns.Enter(() => new System.Net.Sockets.Socket(System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp));
        Task connect = client.ConnectAsync(Ip4.ToIPAddress(Remote), 5201);
        byte[] syn = await ReadUntilAsync(tun, p => Ipv4.Protocol(p) == Ipv4.ProtocolTcp);
        ReadOnlySpan<byte> synTcp = syn.AsSpan(20);
        uint clientSeq = Tcp.Sequence(synTcp);
        ushort clientPort = Tcp.SourcePort(synTcp);
        byte[] synAck = PacketBuilder.Tcp(
            seq: 1000, payloadLength: 0, flags: Tcp.Syn | Tcp.Ack, src: Remote, dst: Ipv4.Source(syn),
            srcPort: 5201, dstPort: clientPort, ack: clientSeq + 1, window: 65535,
            tcpOptions: [2, 4, 0x05, 0x78, 1, 3, 3, 7]); // MSS 1400, window scale 7
        tun.WritePacket(0, synAck);
        await connect.WaitAsync(TimeSpan.FromSeconds(10));

        // Not awaited: nobody acknowledges, so a send larger than the socket buffer would never complete.
        _ = client.SendAsync(new byte[30_000]);
        VirtioNetHeader header = default;
        await ReadUntilAsync(tun, p => true, frame =>
        {
            header = VirtioNetHeader.Read(frame);
            return header.GsoKind == VirtioNetHeader.GsoTcpV4;
        });
        Assert.Equal(VirtioNetHeader.GsoTcpV4, header.GsoKind);
        Assert.True(header.NeedsChecksum);
        Assert.True(header.GsoSize is > 0 and <= 1400);
    }

    private static async Task<byte[]> ReadUntilAsync(TunDevice tun, Func<byte[], bool> match, Func<byte[], bool>? frameMatch = null)
    {
        var buffer = new byte[VirtioNetHeader.Size + 65536];
        int offset = tun.HasVnetHeader ? VirtioNetHeader.Size : 0;
        DateTime deadline = DateTime.UtcNow.AddSeconds(10);
        while (DateTime.UtcNow < deadline)
        {
            int n = tun.Read(0, buffer);
            if (n < 0)
            {
                await Task.Delay(5);
                continue;
            }

            byte[] frame = buffer[..n];
            byte[] packet = frame[offset..];
            if (packet.Length >= 20 && Ipv4.Version(packet) == 4 && match(packet) && (frameMatch?.Invoke(frame) ?? true))
            {
                return packet;
            }
        }

        throw new TimeoutException("no matching packet from the TUN");
    }
}
