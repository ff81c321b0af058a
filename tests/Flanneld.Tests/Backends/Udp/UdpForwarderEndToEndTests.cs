using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using Flannel.Core.Net;
using Flanneld.Backends.Udp;

namespace Flanneld.Tests.Backends.Udp;

public class UdpForwarderEndToEndTests
{
    public static TheoryData<string, bool, bool> Modes => new()
    {
        { "oo", false, false },
        { "pp", true, true },
        { "op", false, true },
    };

    [Theory]
    [MemberData(nameof(Modes))]
    public async Task PodToPod_PingAndTcpTransfer_ArriveIntact(string name, bool plain1, bool plain2)
    {
        using var lab = new TwoNodeLab($"e2e-{name}", Mode(plain1), Mode(plain2));

        lab.Node1.Exec("ping -c 2 -i 0.2 -W 2 -I 198.18.1.2 198.18.2.2");

        byte[] data = RandomNumberGenerator.GetBytes(4 << 20);
        byte[] received = await TransferAsync(lab, data);
        Assert.Equal(SHA256.HashData(data), SHA256.HashData(received));

        Assert.Equal(!plain1, lab.Forwarder1.UsesTunOffload);
        Assert.Equal(0, lab.Forwarder2!.Counters.MalformedDatagrams);
        Assert.True(lab.Forwarder2.Counters.DatagramsReceived >= (4 << 20) / 1432);
        if (!plain2)
        {
            Assert.True(lab.Forwarder2.Counters.Coalesced > 0, lab.Forwarder2.Counters.ToString());
        }
    }

    [Fact]
    public async Task MultiQueueTun_TcpTransfer_ArrivesIntact()
    {
        using var lab = new TwoNodeLab("e2e-mq", TwoNodeLab.Offloaded, TwoNodeLab.Offloaded, queues: 2);
        byte[] data = RandomNumberGenerator.GetBytes(2 << 20);
        byte[] received = await TransferAsync(lab, data);
        Assert.Equal(SHA256.HashData(data), SHA256.HashData(received));
    }

    [Fact]
    public void TtlOne_SenderGetsTimeExceeded()
    {
        using var lab = new TwoNodeLab("e2e-ttl", TwoNodeLab.Offloaded, TwoNodeLab.Offloaded);
        var failure = Assert.Throws<InvalidOperationException>(() => lab.Node1.Exec("ping -c 1 -W 2 -t 1 -I 198.18.1.2 198.18.2.2"));
        Assert.Contains("Time to live exceeded", failure.Message, StringComparison.Ordinal);
        Assert.Equal(1, lab.Forwarder1.Counters.TtlExpired);
        Assert.Equal(0, lab.Forwarder2!.Counters.DatagramsReceived);
    }

    [Fact]
    public async Task MalformedDatagrams_CountedAndDropped_ForwardingContinues()
    {
        using var lab = new TwoNodeLab("e2e-bad", TwoNodeLab.Offloaded, TwoNodeLab.Offloaded);
        byte[] valid = IcmpEcho(TwoNodeLab.Pod1, TwoNodeLab.Pod2);
        byte[] ipv6 = new byte[48];
        ipv6[0] = 0x60;
        byte[] trailing = [.. valid, 0, 0];
        byte[] badChecksum = (byte[])valid.Clone();
        badChecksum[12] ^= 0xff;
        byte[][] garbage = [[], [1, 2, 3], ipv6, trailing, valid[..^4], badChecksum];

        lab.Node1.Enter(() =>
        {
            using var udp = new UdpClient(new IPEndPoint(IPAddress.Parse("192.0.2.1"), 0));
            foreach (byte[] g in garbage)
            {
                udp.Send(g, g.Length, new IPEndPoint(IPAddress.Parse("192.0.2.2"), UdpForwarderOptions.DefaultPort));
            }

            return 0;
        });

        await WaitForAsync(() => lab.Forwarder2!.Counters.MalformedDatagrams >= garbage.Length);
        Assert.Equal(garbage.Length, lab.Forwarder2!.Counters.MalformedDatagrams);
        Assert.Equal(0, lab.Forwarder2.Counters.TunPacketsWritten);
        lab.Node1.Exec("ping -c 1 -W 2 -I 198.18.1.2 198.18.2.2");
    }

    [Fact]
    public void UnknownSubnet_SenderGetsNetUnreachable()
    {
        using var lab = new TwoNodeLab("e2e-unr", TwoNodeLab.Offloaded, TwoNodeLab.Offloaded);
        var failure = Assert.Throws<InvalidOperationException>(() => lab.Node1.Exec("ping -c 1 -W 2 -I 198.18.1.2 198.18.77.1"));
        Assert.Contains("Destination Net Unreachable", failure.Message, StringComparison.Ordinal);
        Assert.Equal(1, lab.Forwarder1.Counters.NoRoute);
    }

    [Fact]
    public void RouteRemoved_TrafficGetsNetUnreachable()
    {
        using var lab = new TwoNodeLab("e2e-del", TwoNodeLab.Plain, TwoNodeLab.Plain);
        lab.Node1.Exec("ping -c 1 -W 2 -I 198.18.1.2 198.18.2.2");
        Assert.True(lab.Forwarder1.Routes.Remove(Ip4Net.Parse("198.18.2.0/24")));
        var failure = Assert.Throws<InvalidOperationException>(() => lab.Node1.Exec("ping -c 1 -W 2 -I 198.18.1.2 198.18.2.2"));
        Assert.Contains("Destination Net Unreachable", failure.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void WireFormat_OneRawIpv4PacketPerDatagram_TtlDecremented(bool plain)
    {
        using var lab = new TwoNodeLab(plain ? "e2e-wire-p" : "e2e-wire-o", Mode(plain), null, node2Forwarder: false);
        using var listener = lab.Node2.Enter(() => new UdpClient(new IPEndPoint(IPAddress.Parse("192.0.2.2"), UdpForwarderOptions.DefaultPort)));
        listener.Client.ReceiveTimeout = 5000;

        lab.Node1.Enter(() =>
        {
            using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
            socket.Bind(new IPEndPoint(IPAddress.Parse("198.18.1.2"), 4000));
            socket.SendTo("hello"u8.ToArray(), new IPEndPoint(IPAddress.Parse("198.18.2.2"), 4001));
            return 0;
        });

        IPEndPoint? from = null;
        byte[] datagram = listener.Receive(ref from);
        Assert.Equal(IPAddress.Parse("192.0.2.1"), from.Address);
        Assert.Equal(UdpForwarderOptions.DefaultPort, from.Port);
        Assert.Equal(28 + 5, datagram.Length);
        Assert.Equal(0x45, datagram[0]);
        Assert.Equal(datagram.Length, (datagram[2] << 8) | datagram[3]);
        Assert.Equal(63, datagram[8]);
        Assert.Equal(17, datagram[9]);
        Assert.Equal(TwoNodeLab.Pod1, Ip4.FromIPAddress(new IPAddress(datagram.AsSpan(12, 4))));
        Assert.Equal(TwoNodeLab.Pod2, Ip4.FromIPAddress(new IPAddress(datagram.AsSpan(16, 4))));
        Assert.Equal("hello"u8.ToArray(), datagram[28..]);
        Assert.Equal(0xffff, Sum(datagram.AsSpan(0, 20)));
    }

    private static UdpForwarderOptions Mode(bool plain) => plain ? TwoNodeLab.Plain : TwoNodeLab.Offloaded;

    private static async Task<byte[]> TransferAsync(TwoNodeLab lab, byte[] data)
    {
        using Socket listener = lab.Node2.Enter(() =>
        {
            var l = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            l.Bind(new IPEndPoint(IPAddress.Parse("198.18.2.2"), 5001));
            l.Listen();
            return l;
        });
        Task<Socket> accept = listener.AcceptAsync();
        using Socket client = lab.Node1.Enter(() =>
        {
            var c = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            c.Bind(new IPEndPoint(IPAddress.Parse("198.18.1.2"), 0));
            c.Connect(new IPEndPoint(IPAddress.Parse("198.18.2.2"), 5001));
            return c;
        });
        using Socket server = await accept.WaitAsync(TimeSpan.FromSeconds(10));
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        Task send = Task.Run(async () =>
        {
            await client.SendAsync(data, timeout.Token);
            client.Shutdown(SocketShutdown.Send);
        });
        var received = new MemoryStream();
        var buffer = new byte[256 * 1024];
        while (true)
        {
            int n = await server.ReceiveAsync(buffer, timeout.Token);
            if (n == 0)
            {
                break;
            }

            received.Write(buffer, 0, n);
        }

        await send;
        return received.ToArray();
    }

    private static byte[] IcmpEcho(uint src, uint dst)
    {
        var p = new byte[28];
        p[0] = 0x45;
        p[3] = 28;
        p[8] = 64;
        p[9] = 1;
        src.ToBigEndianBytes().CopyTo(p, 12);
        dst.ToBigEndianBytes().CopyTo(p, 16);
        WriteChecksum(p.AsSpan(0, 20), 10);
        p[20] = 8;
        WriteChecksum(p.AsSpan(20), 2);
        return p;
    }

    private static void WriteChecksum(Span<byte> data, int at)
    {
        ushort c = (ushort)~Sum(data);
        data[at] = (byte)(c >> 8);
        data[at + 1] = (byte)c;
    }

    private static int Sum(ReadOnlySpan<byte> data)
    {
        int sum = 0;
        for (int i = 0; i < data.Length; i += 2)
        {
            sum += (data[i] << 8) | (i + 1 < data.Length ? data[i + 1] : 0);
            sum = (sum & 0xffff) + (sum >> 16);
        }

        return sum;
    }

    private static async Task WaitForAsync(Func<bool> condition)
    {
        for (int i = 0; i < 100 && !condition(); i++)
        {
            await Task.Delay(50);
        }
    }
}

internal static class UintBytes
{
    public static byte[] ToBigEndianBytes(this uint value) => [(byte)(value >> 24), (byte)(value >> 16), (byte)(value >> 8), (byte)value];
}
