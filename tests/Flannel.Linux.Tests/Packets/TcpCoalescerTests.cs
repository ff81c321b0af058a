using System.Buffers.Binary;
using Flannel.Linux.Packets;

namespace Flannel.Linux.Tests.Packets;

public class TcpCoalescerTests
{
    private const int Mss = 1000;

    [Fact]
    public void Add_ConsecutiveSegments_MergedIntoOneGsoSuperSegment()
    {
        var c = new TcpCoalescer(8);
        byte[][] segs = [.. Enumerable.Range(0, 4).Select(i => PacketBuilder.Tcp(seq: 100 + (uint)(i * Mss), payloadLength: Mss, id: (ushort)(10 + i)))];
        foreach (byte[] s in segs)
        {
            Assert.True(c.Add(s));
        }

        Assert.Equal(1, c.Count);
        Assert.Equal(4, c.Segments(0));
        Assert.Equal(3, c.Merged);
        byte[] frame = Frame(c, 0);
        VirtioNetHeader h = VirtioNetHeader.Read(frame);
        Assert.Equal(new VirtioNetHeader(VirtioNetHeader.FlagNeedsChecksum, VirtioNetHeader.GsoTcpV4, 40, Mss, 20, 16), h);

        byte[] packet = frame[VirtioNetHeader.Size..];
        Assert.Equal(40 + (4 * Mss), packet.Length);
        Assert.Equal(packet.Length, Ipv4.TotalLength(packet));
        Assert.True(PacketBuilder.IpChecksumValid(packet));
        uint pseudo = InternetChecksum.PseudoHeaderSum(PacketBuilder.Pod1, PacketBuilder.Pod2, 6, packet.Length - 20);
        Assert.Equal((ushort)pseudo, Tcp.Checksum(packet.AsSpan(20)));

        // What the kernel will do with it: cut it again at gso_size. That must give back the original segments.
        List<byte[]> again = TcpSegmenterTests.Run(packet, out _, h.GsoSize);
        Assert.Equal(segs, again);
    }

    [Fact]
    public void Add_SequenceGap_StartsNewItem()
    {
        var c = new TcpCoalescer(8);
        c.Add(PacketBuilder.Tcp(seq: 0, payloadLength: Mss));
        c.Add(PacketBuilder.Tcp(seq: 2 * Mss, payloadLength: Mss));
        Assert.Equal(2, c.Count);
        Assert.Equal(0, VirtioNetHeader.Read(Frame(c, 0)).GsoType);
    }

    [Fact]
    public void Add_PshSegment_EndsRunWithPshSet()
    {
        var c = new TcpCoalescer(8);
        c.Add(PacketBuilder.Tcp(seq: 0, payloadLength: Mss));
        c.Add(PacketBuilder.Tcp(seq: Mss, payloadLength: Mss, flags: Tcp.Ack | Tcp.Psh));
        c.Add(PacketBuilder.Tcp(seq: 2 * Mss, payloadLength: Mss));
        Assert.Equal(2, c.Count);
        Assert.Equal(2, c.Segments(0));
        Assert.Equal(Tcp.Ack | Tcp.Psh, Tcp.Flags(Frame(c, 0).AsSpan(VirtioNetHeader.Size + 20)));
        Assert.Equal(1, c.Segments(1));
    }

    [Fact]
    public void Add_ShortSegment_EndsRun()
    {
        var c = new TcpCoalescer(8);
        c.Add(PacketBuilder.Tcp(seq: 0, payloadLength: Mss));
        c.Add(PacketBuilder.Tcp(seq: Mss, payloadLength: 10));
        c.Add(PacketBuilder.Tcp(seq: Mss + 10, payloadLength: Mss));
        Assert.Equal(2, c.Count);
        Assert.Equal(2, c.Segments(0));
        Assert.Equal(40 + Mss + 10, Frame(c, 0).Length - VirtioNetHeader.Size);
    }

    [Fact]
    public void Add_LargerSegmentAfterFirst_NotMerged()
    {
        var c = new TcpCoalescer(8);
        c.Add(PacketBuilder.Tcp(seq: 0, payloadLength: 500));
        c.Add(PacketBuilder.Tcp(seq: 500, payloadLength: Mss));
        Assert.Equal(2, c.Count);
    }

    [Fact]
    public void Add_InterleavedFlows_EachFlowMerged()
    {
        var c = new TcpCoalescer(8);
        for (int i = 0; i < 3; i++)
        {
            c.Add(PacketBuilder.Tcp(seq: (uint)(i * Mss), payloadLength: Mss, srcPort: 1));
            c.Add(PacketBuilder.Tcp(seq: (uint)(i * Mss), payloadLength: Mss, srcPort: 2));
        }

        Assert.Equal(2, c.Count);
        Assert.Equal(3, c.Segments(0));
        Assert.Equal(3, c.Segments(1));
    }

    [Fact]
    public void Add_DifferentAckOrWindowOrOptions_NotMerged()
    {
        var c = new TcpCoalescer(8);
        c.Add(PacketBuilder.Tcp(seq: 0, payloadLength: Mss));
        c.Add(PacketBuilder.Tcp(seq: Mss, payloadLength: Mss, ack: 778));
        c.Add(PacketBuilder.Tcp(seq: 2 * Mss, payloadLength: Mss, ack: 778, window: 1));
        c.Add(PacketBuilder.Tcp(seq: 3 * Mss, payloadLength: Mss, ack: 778, window: 1, tcpOptions: [1, 1, 1, 1]));
        Assert.Equal(4, c.Count);
    }

    [Fact]
    public void Add_NonTcpAndSynAndIpOptions_PassThroughUntouched()
    {
        var c = new TcpCoalescer(8);
        byte[] udp = PacketBuilder.Udp(100);
        byte[] syn = PacketBuilder.Tcp(seq: 0, payloadLength: 0, flags: Tcp.Syn);
        byte[] withOptions1 = PacketBuilder.Tcp(seq: 1, payloadLength: Mss, ipOptionWords: 1);
        byte[] withOptions2 = PacketBuilder.Tcp(seq: 1 + Mss, payloadLength: Mss, ipOptionWords: 1);
        byte[] icmp = PacketBuilder.Icmp(8, 0);
        byte[][] all = [udp, syn, withOptions1, withOptions2, icmp];
        foreach (byte[] p in all)
        {
            c.Add(p);
        }

        Assert.Equal(all.Length, c.Count);
        for (int i = 0; i < all.Length; i++)
        {
            byte[] frame = Frame(c, i);
            Assert.Equal(default, VirtioNetHeader.Read(frame));
            Assert.Equal(all[i], frame[VirtioNetHeader.Size..]);
        }
    }

    [Fact]
    public void Add_SegmentAfterUnmergeableOfSameFlow_DoesNotJumpAhead()
    {
        var c = new TcpCoalescer(8);
        c.Add(PacketBuilder.Tcp(seq: 0, payloadLength: Mss));
        c.Add(PacketBuilder.Tcp(seq: Mss, payloadLength: Mss, flags: Tcp.Ack | Tcp.Cwr));
        c.Add(PacketBuilder.Tcp(seq: 2 * Mss, payloadLength: Mss));
        Assert.Equal(3, c.Count);
    }

    [Fact]
    public void Add_MergeDisabled_KeepsEveryPacket()
    {
        var c = new TcpCoalescer(8, merge: false);
        c.Add(PacketBuilder.Tcp(seq: 0, payloadLength: Mss));
        c.Add(PacketBuilder.Tcp(seq: Mss, payloadLength: Mss));
        Assert.Equal(2, c.Count);
    }

    [Fact]
    public void Add_Full_ReturnsFalseUntilCleared()
    {
        var c = new TcpCoalescer(2);
        Assert.True(c.Add(PacketBuilder.Udp(1)));
        Assert.True(c.Add(PacketBuilder.Udp(2)));
        Assert.False(c.Add(PacketBuilder.Udp(3)));
        c.Clear();
        Assert.True(c.Add(PacketBuilder.Udp(3)));
        Assert.Equal(1, c.Count);
    }

    [Fact]
    public void Add_WouldExceed64KiB_StartsNewItem()
    {
        var c = new TcpCoalescer(8);
        const int big = 1400;
        uint seq = 0;
        for (int i = 0; i < 50; i++)
        {
            c.Add(PacketBuilder.Tcp(seq: seq, payloadLength: big));
            seq += big;
        }

        Assert.Equal(2, c.Count);
        Assert.True(Frame(c, 0).Length - VirtioNetHeader.Size <= 65535);
        Assert.Equal(50, c.Segments(0) + c.Segments(1));
        Assert.Equal(BinaryPrimitives.ReadUInt16BigEndian(Frame(c, 1).AsSpan(VirtioNetHeader.Size + 2)), Frame(c, 1).Length - VirtioNetHeader.Size);
    }

    [Fact]
    public void Get_MergedItem_IsOwnHeaderThenPayloadSlicesOfTheAddedBuffers()
    {
        var c = new TcpCoalescer(8);
        byte[] first = PacketBuilder.Tcp(seq: 0, payloadLength: Mss);
        byte[] second = PacketBuilder.Tcp(seq: Mss, payloadLength: Mss);
        byte[] batch = [.. new byte[7], .. first, .. second];
        Assert.True(c.Add(batch, 7, first.Length));
        Assert.True(c.Add(batch, 7 + first.Length, second.Length));

        ReadOnlySpan<PacketSlice> pieces = c.Get(0);
        Assert.Equal(3, pieces.Length);
        Assert.NotSame(batch, pieces[0].Array);
        Assert.Equal(VirtioNetHeader.Size + 40, pieces[0].Length);
        Assert.Equal(new PacketSlice(batch, 7 + 40, Mss), pieces[1]);
        Assert.Equal(new PacketSlice(batch, 7 + first.Length + 40, Mss), pieces[2]);
    }

    [Fact]
    public void Add_MoreThanMaxSegmentsOfTinyPayload_StartsNewItem()
    {
        var c = new TcpCoalescer(8);
        for (int i = 0; i < TcpCoalescer.MaxSegments + 1; i++)
        {
            c.Add(PacketBuilder.Tcp(seq: (uint)(i * 10), payloadLength: 10));
        }

        Assert.Equal(2, c.Count);
        Assert.Equal(TcpCoalescer.MaxSegments, c.Segments(0));
        Assert.Equal(1, c.Segments(1));
    }

    /// <summary>Item <paramref name="index"/> as the one frame a gather write puts together.</summary>
    private static byte[] Frame(TcpCoalescer c, int index)
    {
        var frame = new List<byte>();
        foreach (PacketSlice piece in c.Get(index))
        {
            frame.AddRange(piece.Span);
        }

        return [.. frame];
    }
}

/// <summary>Whole packets, as the tests build them one array each.</summary>
internal static class TcpCoalescerExtensions
{
    public static bool Add(this TcpCoalescer c, byte[] packet) => c.Add(packet, 0, packet.Length);
}
