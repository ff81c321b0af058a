using Flannel.Linux.Packets;

namespace Flannel.Linux.Tests.Packets;

public class TcpSegmenterTests
{
    private const int Mss = 1000;

    [Fact]
    public void SegmentHeaders_ExactMultipleOfMss_SplitsWithIncrementingIdsAndSequences()
    {
        byte[] super = PacketBuilder.Tcp(seq: 5000, payloadLength: 3 * Mss, id: 0xfffe);
        List<byte[]> segments = Run(super, out int segmentLength);

        Assert.Equal(3, segments.Count);
        Assert.Equal(40 + Mss, segmentLength);
        for (int i = 0; i < 3; i++)
        {
            byte[] s = segments[i];
            Assert.Equal(40 + Mss, s.Length);
            Assert.Equal(s.Length, Ipv4.TotalLength(s));
            Assert.Equal((ushort)(0xfffe + i), Ipv4.Id(s));
            Assert.Equal(5000u + (uint)(i * Mss), Tcp.Sequence(s.AsSpan(20)));
            Assert.True(PacketBuilder.IpChecksumValid(s));
            Assert.True(PacketBuilder.TcpChecksumValid(s));
        }

        Assert.Equal(super.AsSpan(40).ToArray(), segments.SelectMany(s => s.Skip(40)).ToArray());
    }

    [Fact]
    public void SegmentHeaders_LastSegmentShort_KeepsRemainder()
    {
        byte[] super = PacketBuilder.Tcp(seq: 1, payloadLength: (2 * Mss) + 7);
        List<byte[]> segments = Run(super, out int segmentLength);
        Assert.Equal([40 + Mss, 40 + Mss, 47], segments.Select(s => s.Length));
        Assert.Equal(40 + Mss, segmentLength);
        Assert.All(segments, s => Assert.True(PacketBuilder.TcpChecksumValid(s)));
        Assert.Equal(1u + (2 * Mss), Tcp.Sequence(segments[2].AsSpan(20)));
    }

    [Fact]
    public void SegmentHeaders_PshFinCwr_PshAndFinOnlyLastCwrOnlyFirst()
    {
        byte flags = Tcp.Ack | Tcp.Psh | Tcp.Fin | Tcp.Cwr | Tcp.Ece;
        List<byte[]> segments = Run(PacketBuilder.Tcp(seq: 9, payloadLength: (3 * Mss) - 1, flags: flags), out _);
        Assert.Equal(Tcp.Ack | Tcp.Cwr | Tcp.Ece, Tcp.Flags(segments[0].AsSpan(20)));
        Assert.Equal(Tcp.Ack | Tcp.Ece, Tcp.Flags(segments[1].AsSpan(20)));
        Assert.Equal(Tcp.Ack | Tcp.Psh | Tcp.Fin | Tcp.Ece, Tcp.Flags(segments[2].AsSpan(20)));
    }

    [Fact]
    public void SegmentHeaders_IpAndTcpOptions_CopiedIntoEverySegment()
    {
        byte[] tcpOptions = [1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2]; // NOP NOP timestamps
        byte[] super = PacketBuilder.Tcp(seq: 77, payloadLength: (2 * Mss) + 1, ipOptionWords: 1, tcpOptions: tcpOptions);
        List<byte[]> segments = Run(super, out int segmentLength);
        Assert.Equal(3, segments.Count);
        Assert.Equal(24 + 32 + Mss, segmentLength);
        foreach (byte[] s in segments)
        {
            Assert.Equal(24, Ipv4.HeaderLength(s));
            Assert.Equal(super.AsSpan(20, 4).ToArray(), s.AsSpan(20, 4).ToArray());
            Assert.Equal(tcpOptions, s.AsSpan(24 + 20, 12).ToArray());
            Assert.True(PacketBuilder.IpChecksumValid(s));
            Assert.True(PacketBuilder.TcpChecksumValid(s));
        }
    }

    [Fact]
    public void SegmentHeaders_PayloadFitsOneSegment_ReturnsOneEqualPacket()
    {
        byte[] super = PacketBuilder.Tcp(seq: 3, payloadLength: 10, flags: Tcp.Ack | Tcp.Psh);
        List<byte[]> segments = Run(super, out _);
        Assert.Equal(super, Assert.Single(segments));
    }

    [Fact]
    public void SegmentHeaders_NotTcp_Refuses()
    {
        Assert.Equal(-1, TcpSegmenter.SegmentHeaders(PacketBuilder.Udp(3000), Mss, new byte[70000], out _, out _));
    }

    [Fact]
    public void SegmentHeaders_ChecksumFieldsPartial_StillProducesValidChecksums()
    {
        // The kernel hands TSO packets over with only the pseudo-header sum in the TCP checksum field.
        byte[] super = PacketBuilder.Tcp(seq: 1, payloadLength: 2 * Mss);
        super[36] = 0x12;
        super[37] = 0x34;
        Assert.All(Run(super, out _), s => Assert.True(PacketBuilder.TcpChecksumValid(s)));
    }

    [Theory]
    [InlineData(1, 0)]
    [InlineData(10, 0)]
    [InlineData((44 * Mss) + 999, 3)]
    public void SegmentHeaders_PayloadSlicesInPlace_ReassembleTheOriginalPayload(int payloadLength, int tcpOptionWords)
    {
        byte[] tcpOptions = [.. Enumerable.Repeat((byte)1, tcpOptionWords * 4)];
        byte[] super = PacketBuilder.Tcp(seq: 0xfffffff0, payloadLength: payloadLength, flags: Tcp.Ack | Tcp.Psh | Tcp.Cwr, tcpOptions: tcpOptions);
        List<byte[]> segments = Run(super, out int segmentLength);
        int headers = 40 + (tcpOptionWords * 4);
        Assert.Equal(headers + Math.Min(Mss, payloadLength), segmentLength);
        Assert.Equal(super.AsSpan(headers).ToArray(), segments.SelectMany(s => s.Skip(headers)).ToArray());
        Assert.All(segments, s => Assert.True(PacketBuilder.TcpChecksumValid(s)));
        Assert.Equal(0xfffffff0u + (uint)((segments.Count - 1) * Mss), Tcp.Sequence(segments[^1].AsSpan(20)));
    }

    [Fact]
    public void SegmentHeaders_HeaderBufferTooSmall_Refuses()
    {
        Assert.Equal(-1, TcpSegmenter.SegmentHeaders(PacketBuilder.Tcp(1, 3 * Mss), Mss, new byte[100], out _, out _));
    }

    /// <summary>Segments <paramref name="super"/> and assembles each datagram as a gather send would: header i, then payload slice i.</summary>
    internal static List<byte[]> Run(byte[] super, out int segmentLength, int mss = Mss)
    {
        var headers = new byte[200_000];
        int count = TcpSegmenter.SegmentHeaders(super, mss, headers, out int headerLength, out int lastPayload);
        Assert.True(count > 0);
        var result = new List<byte[]>();
        for (int i = 0; i < count; i++)
        {
            int length = i == count - 1 ? lastPayload : mss;
            result.Add([.. headers.AsSpan(i * headerLength, headerLength), .. super.AsSpan(headerLength + (i * mss), length)]);
        }

        segmentLength = headerLength + (count == 1 ? lastPayload : mss);
        return result;
    }
}
