using Flannel.Linux.Packets;

namespace Flannel.Linux.Tests.Packets;

public class Ipv4Tests
{
    [Fact]
    public void DecrementTtl_EveryTtlAndId_KeepsChecksumValid()
    {
        for (int ttl = 2; ttl <= 255; ttl++)
        {
            for (int id = 0; id < 65536; id += 997)
            {
                byte[] p = PacketBuilder.Tcp(1, 10, ttl: (byte)ttl, id: (ushort)id);
                Assert.True(Ipv4.DecrementTtl(p));
                Assert.Equal(ttl - 1, p[8]);
                Assert.True(PacketBuilder.IpChecksumValid(p), $"ttl {ttl} id {id}");
            }
        }
    }

    [Fact]
    public void DecrementTtl_TtlOne_ReturnsFalseAndLeavesPacket()
    {
        byte[] p = PacketBuilder.Tcp(1, 10, ttl: 1);
        byte[] before = (byte[])p.Clone();
        Assert.False(Ipv4.DecrementTtl(p));
        Assert.Equal(before, p);
    }

    [Fact]
    public void UpdateChecksum_WithOptions_CoversWholeHeader()
    {
        byte[] p = PacketBuilder.Tcp(1, 10, ipOptionWords: 2);
        p[10] = 0;
        p[11] = 0;
        Ipv4.UpdateChecksum(p);
        Assert.True(PacketBuilder.IpChecksumValid(p));
        Assert.True(Ipv4.HasValidChecksum(p));
    }
}
