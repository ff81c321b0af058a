using System.Net;
using System.Net.NetworkInformation;
using Flannel.Linux.Netlink;

namespace Flannel.Linux.Tests.Netlink;

/// <summary>
/// Byte-exact requests, derived by hand from the kernel headers (linux/rtnetlink.h, if_link.h, neighbour.h, if_addr.h)
/// and checked against what iproute2 sends (captured once with strace). Sequence 1, port id 0 throughout.
/// Header: len u32, type u16, flags u16, seq u32, pid u32; attributes: len u16, type u16, value, pad to 4.
/// </summary>
public sealed class MessageGoldenTests
{
    private delegate void Build(ref NetlinkWriter writer);

    private static string Hex(Build build)
    {
        using var buffer = new NetlinkBuffer();
        var writer = new NetlinkWriter(buffer);
        build(ref writer);
        return Convert.ToHexStringLower(buffer.Span);
    }

    private static string Golden(params string[] parts) => string.Concat(parts).Replace(" ", "", StringComparison.Ordinal);

    private static readonly PhysicalAddress Mac = PhysicalAddress.Parse("0E-AA-BB-CC-DD-01");

    [Fact]
    public void RouteReplace_OnlinkViaDev_MatchesIproute2()
    {
        // ip route replace 198.18.5.0/24 via 198.18.5.0 dev <5> onlink  (same bytes as iproute2 6.x, bar the index)
        var route = new Route { Destination = IpPrefix.Parse("198.18.5.0/24"), Gateway = IPAddress.Parse("198.18.5.0"), OutputInterface = 5, OnLink = true };

        string hex = Hex((ref NetlinkWriter w) => RouteCodec.WriteModify(ref w, 0x505, 1, route));

        Assert.Equal(Golden(
            "34000000 1800 0505 01000000 00000000",   // len 52, RTM_NEWROUTE, REQUEST|ACK|REPLACE|CREATE
            "02 18 00 00 fe 03 00 01 04000000",         // AF_INET, /24, main, RTPROT_BOOT, universe, unicast, RTNH_F_ONLINK
            "0800 0100 c6120500",                       // RTA_DST
            "0800 0500 c6120500",                       // RTA_GATEWAY
            "0800 0400 05000000"),                      // RTA_OIF
            hex);
    }

    [Fact]
    public void RouteDelete_DeviceRoute_UsesScopeNowhereAndUnspecifiedProtocol()
    {
        var route = new Route { Destination = IpPrefix.Parse("198.18.0.0/16"), OutputInterface = 3 };

        string hex = Hex((ref NetlinkWriter w) => RouteCodec.WriteDelete(ref w, 1, route));

        Assert.Equal(Golden(
            "2c000000 1900 0500 01000000 00000000",   // len 44, RTM_DELROUTE, REQUEST|ACK
            "02 10 00 00 fe 00 ff 00 00000000",         // /16, main, RTPROT_UNSPEC, RT_SCOPE_NOWHERE, RTN_UNSPEC
            "0800 0100 c6120000",
            "0800 0400 03000000"),
            hex);
    }

    [Fact]
    public void RouteAdd_BlackholeV6_HasNoDeviceAndBlackholeType()
    {
        var route = new Route { Destination = IpPrefix.Parse("2001:db8::/32"), Type = RouteType.Blackhole };

        string hex = Hex((ref NetlinkWriter w) => RouteCodec.WriteModify(ref w, 0x605, 1, route));

        Assert.Equal(Golden(
            "30000000 1800 0506 01000000 00000000",   // len 48, REQUEST|ACK|EXCL|CREATE
            "0a 20 00 00 fe 03 00 06 00000000",         // AF_INET6, /32, universe scope, RTN_BLACKHOLE
            "1400 0100 20010db8000000000000000000000000"),
            hex);
    }

    [Fact]
    public void RouteGet_V4_AsksForHostPrefix()
    {
        string hex = Hex((ref NetlinkWriter w) => RouteCodec.WriteGet(ref w, 1, IPAddress.Parse("192.0.2.9")));

        Assert.Equal(Golden(
            "24000000 1a00 0100 01000000 00000000",   // len 36, RTM_GETROUTE, REQUEST
            "02 20 00 00 00 00 00 00 00000000",
            "0800 0100 c0000209"),
            hex);
    }

    [Fact]
    public void NeighbourReplace_Permanent_MatchesIpNeigh()
    {
        var neighbour = new Neighbour { InterfaceIndex = 5, Address = IPAddress.Parse("198.18.5.0"), LinkAddress = Mac };

        string hex = Hex((ref NetlinkWriter w) => NeighbourCodec.WriteNeighbour(ref w, 28, NeighbourCodec.ReplaceFlags, 1, neighbour));

        Assert.Equal(Golden(
            "30000000 1c00 0505 01000000 00000000",   // len 48, RTM_NEWNEIGH
            "02 00 0000 05000000 8000 00 00",           // AF_INET, ifindex 5, NUD_PERMANENT, no flags
            "0800 0100 c6120500",                       // NDA_DST
            "0a00 0200 0eaabbccdd01 0000"),             // NDA_LLADDR, padded
            hex);
    }

    [Fact]
    public void FdbReplace_SelfPermanentWithDst_MatchesBridgeFdbLayout()
    {
        // bridge fdb replace 0e:aa:bb:cc:dd:01 dev <2> dst 192.0.2.2 self permanent (bridge(8) also sets NUD_NOARP;
        // upstream flannel, like this, sends NUD_PERMANENT alone)
        var entry = new FdbEntry { InterfaceIndex = 2, LinkAddress = Mac, Destination = IPAddress.Parse("192.0.2.2") };

        string hex = Hex((ref NetlinkWriter w) => NeighbourCodec.WriteFdb(ref w, 28, NeighbourCodec.ReplaceFlags, 1, entry));

        Assert.Equal(Golden(
            "30000000 1c00 0505 01000000 00000000",
            "07 00 0000 02000000 8000 02 00",           // AF_BRIDGE, ifindex 2, NUD_PERMANENT, NTF_SELF
            "0a00 0200 0eaabbccdd01 0000",              // NDA_LLADDR
            "0800 0100 c0000202"),                      // NDA_DST
            hex);
    }

    [Fact]
    public void NeighbourDump_OneDevice_FiltersThroughNdaIfindex()
    {
        string hex = Hex((ref NetlinkWriter w) => NeighbourCodec.WriteDump(ref w, 1, 2, 5));

        Assert.Equal(Golden(
            "24000000 1e00 0103 01000000 00000000",   // len 36, RTM_GETNEIGH, REQUEST|DUMP
            "02 00 0000 00000000 0000 00 00",
            "0800 0800 05000000"),                      // NDA_IFINDEX
            hex);
    }

    [Fact]
    public void AddressAdd_V4Host_CarriesLocalAndAddress()
    {
        // ip addr add 198.18.1.0/32 dev <5>
        string hex = Hex((ref NetlinkWriter w) => AddressCodec.WriteModify(ref w, 20, 0x605, 1, 5, IpPrefix.Parse("198.18.1.0/32")));

        Assert.Equal(Golden(
            "28000000 1400 0506 01000000 00000000",   // len 40, RTM_NEWADDR, REQUEST|ACK|EXCL|CREATE
            "02 20 00 00 05000000",                     // AF_INET, /32, flags 0, scope universe, index 5
            "0800 0200 c6120100",                       // IFA_LOCAL
            "0800 0100 c6120100"),                      // IFA_ADDRESS
            hex);
    }

    [Fact]
    public void LinkCreate_Vxlan_NestsLinkInfoAndData()
    {
        // ip link add flannel.1 mtu 1450 type vxlan id 1 dev <2> local 192.0.2.1 dstport 8472 nolearning gbp
        var spec = new VxlanLinkSpec("flannel.1", new VxlanSettings
        {
            Vni = 1,
            UnderlayIndex = 2,
            Local = IPAddress.Parse("192.0.2.1"),
            Port = 8472,
            Gbp = true,
        })
        { Mtu = 1450 };

        string hex = Hex((ref NetlinkWriter w) => LinkCodec.WriteCreate(ref w, 1, spec));

        Assert.Equal(Golden(
            "88000000 1000 0506 01000000 00000000",   // len 136, RTM_NEWLINK, REQUEST|ACK|EXCL|CREATE
            "00 00 0000 00000000 00000000 00000000",    // ifinfomsg: AF_UNSPEC, index 0, no flags
            "0e00 0300 666c616e6e656c2e3100 0000",      // IFLA_IFNAME "flannel.1\0"
            "0800 0400 aa050000",                       // IFLA_MTU 1450
            "5000 1200",                                // IFLA_LINKINFO, 80 bytes
            "0a00 0100 76786c616e00 0000",              // IFLA_INFO_KIND "vxlan\0"
            "4000 0200",                                // IFLA_INFO_DATA, 64 bytes
            "0800 0100 01000000",                       // IFLA_VXLAN_ID 1
            "0800 0300 02000000",                       // IFLA_VXLAN_LINK 2
            "0800 0400 c0000201",                       // IFLA_VXLAN_LOCAL
            "0500 0700 00 000000",                      // IFLA_VXLAN_LEARNING 0
            "0500 0d00 00 000000",                      // IFLA_VXLAN_L2MISS 0
            "0500 0e00 00 000000",                      // IFLA_VXLAN_L3MISS 0
            "0600 0f00 2118 0000",                      // IFLA_VXLAN_PORT 8472, network order
            "0400 1700"),                               // IFLA_VXLAN_GBP (flag)
            hex);
    }

    [Fact]
    public void LinkCreate_VethWithPeer_NestsPeerIfinfomsg()
    {
        var spec = new VethLinkSpec("v0", "v1") { Up = true };

        string hex = Hex((ref NetlinkWriter w) => LinkCodec.WriteCreate(ref w, 1, spec));

        Assert.Equal(Golden(
            "58000000 1000 0506 01000000 00000000",   // len 88
            "00 00 0000 00000000 01000000 01000000",    // IFF_UP in flags and change
            "0700 0300 763000 00",                      // IFLA_IFNAME "v0"
            "3000 1200",                                // IFLA_LINKINFO, 48
            "0900 0100 7665746800 000000",              // IFLA_INFO_KIND "veth"
            "2000 0200",                                // IFLA_INFO_DATA, 32
            "1c00 0100",                                // VETH_INFO_PEER, 28
            "00 00 0000 00000000 00000000 00000000",    // the peer's ifinfomsg
            "0700 0300 763100 00"),                     // its IFLA_IFNAME "v1"
            hex);
    }

    [Fact]
    public void LinkChange_UpAndMtu_SetsChangeMaskOnlyForUp()
    {
        string hex = Hex((ref NetlinkWriter w) => LinkCodec.WriteChange(ref w, 1, 7, new LinkChange { Up = true, Mtu = 1400 }));

        Assert.Equal(Golden(
            "28000000 1000 0500 01000000 00000000",   // len 40, RTM_NEWLINK, REQUEST|ACK
            "00 00 0000 07000000 01000000 01000000",
            "0800 0400 78050000"),                      // IFLA_MTU 1400
            hex);
    }

    [Fact]
    public void LinkDump_Request_IsBareIfinfomsg()
    {
        string hex = Hex((ref NetlinkWriter w) => LinkCodec.WriteDump(ref w, 1));

        Assert.Equal(Golden(
            "20000000 1200 0103 01000000 00000000",   // len 32, RTM_GETLINK, REQUEST|DUMP
            "00 00 0000 00000000 00000000 00000000"),
            hex);
    }

    [Fact]
    public void AddressDelete_V6_CarriesSixteenByteAddresses()
    {
        // ip -6 addr del 2001:db8::1/64 dev <3>
        string hex = Hex((ref NetlinkWriter w) => AddressCodec.WriteModify(ref w, 21, 0x5, 1, 3, IpPrefix.Parse("2001:db8::1/64")));

        Assert.Equal(Golden(
            "40000000 1500 0500 01000000 00000000",   // len 64, RTM_DELADDR, REQUEST|ACK
            "0a 40 00 00 03000000",                     // AF_INET6, /64, index 3
            "1400 0200 20010db8000000000000000000000001",
            "1400 0100 20010db8000000000000000000000001"),
            hex);
    }

    [Fact]
    public void FdbDelete_WithDst_UsesDelNeigh()
    {
        var entry = new FdbEntry { InterfaceIndex = 4, LinkAddress = Mac, Destination = IPAddress.Parse("192.0.2.2") };

        string hex = Hex((ref NetlinkWriter w) => NeighbourCodec.WriteFdb(ref w, 29, 0x5, 1, entry));

        Assert.Equal(Golden(
            "30000000 1d00 0500 01000000 00000000",   // RTM_DELNEIGH, REQUEST|ACK
            "07 00 0000 04000000 8000 02 00",
            "0a00 0200 0eaabbccdd01 0000",
            "0800 0100 c0000202"),
            hex);
    }

    [Fact]
    public void FdbDump_OneDevice_FiltersThroughNdmIfindex()
    {
        string hex = Hex((ref NetlinkWriter w) => NeighbourCodec.WriteDump(ref w, 1, 7, 4));

        Assert.Equal(Golden(
            "1c000000 1e00 0103 01000000 00000000",   // len 28, RTM_GETNEIGH, REQUEST|DUMP
            "07 00 0000 04000000 0000 00 00"),          // AF_BRIDGE, bridge port / device 4
            hex);
    }

    [Fact]
    public void RouteDump_V6_IsBareRtmsg()
    {
        string hex = Hex((ref NetlinkWriter w) => RouteCodec.WriteDump(ref w, 1, 10));

        Assert.Equal(Golden(
            "1c000000 1a00 0103 01000000 00000000",   // len 28, RTM_GETROUTE, REQUEST|DUMP
            "0a 00 00 00 00 00 00 00 00000000"),
            hex);
    }

    [Fact]
    public void LinkGet_ByName_CarriesIfname()
    {
        string hex = Hex((ref NetlinkWriter w) => LinkCodec.WriteGet(ref w, 1, 0, "eth0"));

        Assert.Equal(Golden(
            "2c000000 1200 0100 01000000 00000000",   // len 44, RTM_GETLINK, REQUEST
            "00 00 0000 00000000 00000000 00000000",
            "0900 0300 6574683000 000000"),             // IFLA_IFNAME "eth0\0"
            hex);
    }
}
