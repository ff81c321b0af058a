using System.Net;
using Flannel.Linux.Interop;
using Flannel.Linux.Netlink;

namespace Flannel.Linux.Tests.Netlink;

/// <summary>Decoding of kernel replies from hand-built bytes (layouts from linux/netlink.h and if_link.h).</summary>
public sealed class MessageParsingTests
{
    private static byte[] Bytes(params string[] parts) => Convert.FromHexString(string.Concat(parts).Replace(" ", "", StringComparison.Ordinal));

    private static NetlinkMessage Single(byte[] datagram)
    {
        var reader = new NetlinkMessageReader(datagram);
        Assert.True(reader.TryRead(out NetlinkMessage message));
        return message;
    }

    [Fact]
    public void ParseError_CappedWithExtendedAck_ReturnsErrnoAndText()
    {
        byte[] datagram = Bytes(
            "34000000 0200 0003 01000000 2a000000",   // len 52, NLMSG_ERROR, CAPPED|ACK_TLVS
            "efffffff",                                 // -EEXIST
            "34000000 1800 0505 01000000 00000000",     // the request's header only (capped)
            "1000 0100 46696c652065786973747300");      // NLMSGERR_ATTR_MSG "File exists"

        NetlinkAck ack = NetlinkSocket.ParseError(Single(datagram));

        Assert.Equal(Errno.EEXIST, ack.Errno);
        Assert.Equal("File exists", ack.Message);
    }

    [Fact]
    public void ParseError_UncappedWithoutTlvs_SkipsEchoedRequest()
    {
        byte[] datagram = Bytes(
            "28000000 0200 0000 07000000 2a000000",   // len 40, no flags
            "edffffff",                                 // -ENODEV
            "14000000 1100 0500 07000000 00000000",     // echoed request: len 20 ...
            "00000000");                                // ... and its 4-byte body

        NetlinkAck ack = NetlinkSocket.ParseError(Single(datagram));

        Assert.Equal(Errno.ENODEV, ack.Errno);
        Assert.Null(ack.Message);
    }

    [Fact]
    public void ParseError_Ack_IsErrnoZero()
    {
        byte[] datagram = Bytes("24000000 0200 0001 03000000 2a000000", "00000000", "20000000 1000 0500 03000000 00000000");

        Assert.Equal(0, NetlinkSocket.ParseError(Single(datagram)).Errno);
    }

    [Fact]
    public void LinkTryParse_VxlanNewLink_ReadsNameFlagsMtuMacAndVxlanData()
    {
        byte[] datagram = Bytes(
            "9c000000 1000 0000 00000000 00000000",     // len 156, RTM_NEWLINK
            "00 00 0100 09000000 43100100 00000000",    // ARPHRD_ETHER, index 9, UP|BROADCAST|RUNNING|MULTICAST
            "0e00 0300 666c616e6e656c2e3100 0000",      // IFLA_IFNAME flannel.1
            "0800 0400 aa050000",                       // IFLA_MTU 1450
            "0a00 0100 0eaabbccdd01 0000",              // IFLA_ADDRESS
            "5800 1280",                                // IFLA_LINKINFO with NLA_F_NESTED
            "0a00 0100 76786c616e00 0000",              // kind vxlan
            "4800 0280",                                // IFLA_INFO_DATA, nested
            "0800 0100 01000000",                       // id 1
            "0800 0300 02000000",                       // link 2
            "0800 0400 c0000201",                       // local
            "0500 0700 01 000000",                      // learning 1
            "0500 0d00 00 000000",
            "0500 0e00 00 000000",
            "0600 0f00 12b5 0000",                      // port 4789
            "0400 1700",                                // gbp
            "0800 0500 40000000");                      // IFLA_VXLAN_TTL: ignored

        Assert.True(LinkCodec.TryParse(Single(datagram), out Link? link));

        Assert.Equal(9, link.Index);
        Assert.Equal("flannel.1", link.Name);
        Assert.True(link.IsUp);
        Assert.Equal(1450, link.Mtu);
        Assert.Equal("0EAABBCCDD01", link.HardwareAddress!.ToString());
        Assert.Equal("vxlan", link.Kind);
        Assert.Equal(new VxlanSettings { Vni = 1, UnderlayIndex = 2, Local = IPAddress.Parse("192.0.2.1"), Learning = true, Port = 4789, Gbp = true }, link.Vxlan);
    }

    [Fact]
    public void MessageReader_TwoMessagesInOneDatagram_ReadsBothThenStops()
    {
        byte[] datagram = Bytes(
            "14000000 0300 0200 05000000 01000000 00000000",   // NLMSG_DONE (len 20)
            "14000000 0300 0200 06000000 01000000 00000000");

        var reader = new NetlinkMessageReader(datagram);

        Assert.True(reader.TryRead(out NetlinkMessage first));
        Assert.Equal(5u, first.Sequence);
        Assert.True(reader.TryRead(out NetlinkMessage second));
        Assert.Equal(6u, second.Sequence);
        Assert.Equal(1u, second.PortId);
        Assert.False(reader.TryRead(out _));
    }

    [Fact]
    public void MessageReader_LengthBeyondDatagram_Throws()
    {
        byte[] datagram = Bytes("40000000 0300 0200 05000000 01000000");

        Assert.Throws<NetlinkProtocolException>(() =>
        {
            var reader = new NetlinkMessageReader(datagram);
            reader.TryRead(out _);
        });
    }
}
