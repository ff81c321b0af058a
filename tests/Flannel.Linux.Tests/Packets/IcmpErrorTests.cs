using Flannel.Core.Net;
using Flannel.Linux.Packets;

namespace Flannel.Linux.Tests.Packets;

public class IcmpErrorTests
{
    private static readonly uint TunAddress = Ip4.Parse("198.18.1.0");

    [Fact]
    public void Build_NetUnreachableForTcp_QuotesHeaderAndEightBytes()
    {
        byte[] offender = PacketBuilder.Tcp(seq: 1, payloadLength: 500);
        var output = new byte[IcmpError.MaxLength];
        int length = IcmpError.Build(IcmpError.TypeDestinationUnreachable, IcmpError.CodeNetUnreachable, TunAddress, offender, output);

        Assert.Equal(20 + 8 + 20 + 8, length);
        byte[] p = output[..length];
        Assert.Equal(PacketVerdict.Ok, Ipv4Validator.Validate(p));
        Assert.Equal(Ipv4.ProtocolIcmp, Ipv4.Protocol(p));
        Assert.Equal(TunAddress, Ipv4.Source(p));
        Assert.Equal(PacketBuilder.Pod1, Ipv4.Destination(p));
        Assert.Equal(3, p[20]);
        Assert.Equal(0, p[21]);
        Assert.Equal(0xffff, PacketBuilder.NaiveSum(p.AsSpan(20)));
        Assert.Equal(offender.AsSpan(0, 28).ToArray(), p.AsSpan(28).ToArray());
    }

    [Fact]
    public void Build_OffenderWithIpOptions_QuotesWholeHeader()
    {
        byte[] offender = PacketBuilder.Tcp(seq: 1, payloadLength: 10, ipOptionWords: 2);
        var output = new byte[IcmpError.MaxLength];
        int length = IcmpError.Build(IcmpError.TypeTimeExceeded, IcmpError.CodeTtlExceeded, TunAddress, offender, output);
        Assert.Equal(20 + 8 + 28 + 8, length);
        Assert.Equal(11, output[20]);
    }

    [Fact]
    public void Build_AboutIcmpError_SendsNothing()
    {
        var output = new byte[IcmpError.MaxLength];
        Assert.Equal(0, IcmpError.Build(3, 0, TunAddress, PacketBuilder.Icmp(3, 1), output));
        Assert.Equal(0, IcmpError.Build(3, 0, TunAddress, PacketBuilder.Icmp(11, 0), output));
    }

    [Fact]
    public void Build_AboutEchoRequest_Answers()
    {
        var output = new byte[IcmpError.MaxLength];
        Assert.Equal(56, IcmpError.Build(3, 0, TunAddress, PacketBuilder.Icmp(8, 0), output));
    }

    [Fact]
    public void Build_LaterFragmentOrGarbage_SendsNothing()
    {
        var output = new byte[IcmpError.MaxLength];
        byte[] fragment = PacketBuilder.Udp(100);
        fragment[7] = 10;
        Assert.Equal(0, IcmpError.Build(3, 0, TunAddress, fragment, output));
        Assert.Equal(0, IcmpError.Build(3, 0, TunAddress, new byte[10], output));
        byte[] v6 = PacketBuilder.Udp(100);
        v6[0] = 0x60;
        Assert.Equal(0, IcmpError.Build(3, 0, TunAddress, v6, output));
    }
}
