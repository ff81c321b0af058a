using Flannel.Linux.Packets;

namespace Flannel.Linux.Tests.Packets;

public class Ipv4ValidatorTests
{
    [Fact]
    public void Validate_WellFormedPacket_Ok()
    {
        Assert.Equal(PacketVerdict.Ok, Ipv4Validator.Validate(PacketBuilder.Tcp(1, 100)));
        Assert.Equal(PacketVerdict.Ok, Ipv4Validator.Validate(PacketBuilder.Tcp(1, 100, ipOptionWords: 1)));
    }

    [Fact]
    public void Validate_ShorterThanHeader_TooShort()
    {
        Assert.Equal(PacketVerdict.TooShort, Ipv4Validator.Validate(PacketBuilder.Tcp(1, 0).AsSpan(0, 19)));
        Assert.Equal(PacketVerdict.TooShort, Ipv4Validator.Validate([]));
    }

    [Fact]
    public void Validate_Ipv6Version_NotIpv4()
    {
        byte[] p = PacketBuilder.Tcp(1, 100);
        p[0] = 0x60;
        Assert.Equal(PacketVerdict.NotIpv4, Ipv4Validator.Validate(p));
    }

    [Fact]
    public void Validate_HeaderLengthBelowFiveOrBeyondData_BadHeaderLength()
    {
        byte[] p = PacketBuilder.Tcp(1, 0);
        p[0] = 0x44;
        Assert.Equal(PacketVerdict.BadHeaderLength, Ipv4Validator.Validate(p));
        byte[] q = PacketBuilder.Udp(20);
        q[0] = 0x4f;
        Assert.Equal(PacketVerdict.BadHeaderLength, Ipv4Validator.Validate(q.AsSpan(0, 40)));
    }

    [Fact]
    public void Validate_TotalLengthDisagreesWithDatagram_BadTotalLength()
    {
        byte[] p = PacketBuilder.Tcp(1, 100);
        Assert.Equal(PacketVerdict.BadTotalLength, Ipv4Validator.Validate(p.AsSpan(0, p.Length - 1)));
        Assert.Equal(PacketVerdict.BadTotalLength, Ipv4Validator.Validate([.. p, 0]));
    }

    [Fact]
    public void Validate_CorruptHeader_BadChecksum()
    {
        byte[] p = PacketBuilder.Tcp(1, 100);
        p[15] ^= 1;
        Assert.Equal(PacketVerdict.BadChecksum, Ipv4Validator.Validate(p));
    }
}
