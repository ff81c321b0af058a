using System.Buffers.Binary;
using Flannel.Linux.Packets;

namespace Flannel.Linux.Tests.Packets;

public class ChecksumOffloadTests
{
    [Fact]
    public void Complete_PartialTcpChecksum_ProducesValidChecksum()
    {
        byte[] p = PacketBuilder.Tcp(100, 333);
        uint pseudo = InternetChecksum.PseudoHeaderSum(PacketBuilder.Pod1, PacketBuilder.Pod2, Ipv4.ProtocolTcp, p.Length - 20);
        BinaryPrimitives.WriteUInt16BigEndian(p.AsSpan(36), (ushort)pseudo);
        Assert.False(PacketBuilder.TcpChecksumValid(p));
        Assert.True(ChecksumOffload.Complete(p, 20, 16));
        Assert.True(PacketBuilder.TcpChecksumValid(p));
    }

    [Fact]
    public void Complete_OffsetOutsidePacket_ReturnsFalse()
    {
        byte[] p = PacketBuilder.Udp(4);
        Assert.False(ChecksumOffload.Complete(p, 20, 20));
        Assert.False(ChecksumOffload.Complete(p, -1, 6));
    }
}
