using System.Net;
using System.Net.NetworkInformation;
using Flannel.Linux.Netlink;

namespace Flannel.Linux.Tests.Netlink;

/// <summary>
/// Byte-exact IPv6 requests of the dual-stack vxlan data path (same conventions as <see cref="MessageGoldenTests"/>):
/// AF_INET6 (10) headers and 16-byte addresses in RTA_DST / RTA_GATEWAY / NDA_DST / IFA_*, IFLA_VXLAN_LOCAL6 (17).
/// </summary>
public sealed class MessageGoldenIPv6Tests
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
    public void RouteReplace_V6OnlinkViaSubnetAddress_SixteenByteDstAndGateway()
    {
        // ip -6 route replace 2001:db8:100:2::/64 via 2001:db8:100:2:: dev <5> onlink
        var route = new Route { Destination = IpPrefix.Parse("2001:db8:100:2::/64"), Gateway = IPAddress.Parse("2001:db8:100:2::"), OutputInterface = 5, OnLink = true };

        string hex = Hex((ref NetlinkWriter w) => RouteCodec.WriteModify(ref w, 0x505, 1, route));

        Assert.Equal(Golden(
            "4c000000 1800 0505 01000000 00000000",   // len 76, RTM_NEWROUTE, REQUEST|ACK|REPLACE|CREATE
            "0a 40 00 00 fe 03 00 01 04000000",         // AF_INET6, /64, main, RTPROT_BOOT, universe, unicast, RTNH_F_ONLINK
            "1400 0100 20010db8010000020000000000000000",  // RTA_DST
            "1400 0500 20010db8010000020000000000000000",  // RTA_GATEWAY
            "0800 0400 05000000"),                      // RTA_OIF
            hex);
    }

    [Fact]
    public void RouteParse_V6OnlinkRoute_RoundTrips()
    {
        var route = new Route { Destination = IpPrefix.Parse("2001:db8:100:2::/64"), Gateway = IPAddress.Parse("2001:db8:100:2::"), OutputInterface = 5, OnLink = true };
        using var buffer = new NetlinkBuffer();
        var writer = new NetlinkWriter(buffer);
        RouteCodec.WriteModify(ref writer, 0x505, 1, route);
        var reader = new NetlinkMessageReader(buffer.Span.ToArray());

        Assert.True(reader.TryRead(out NetlinkMessage message));
        Assert.True(RouteCodec.TryParse(message, out Route? parsed));
        Assert.Equal(route.Destination, parsed.Destination);
        Assert.Equal(route.Gateway, parsed.Gateway);
        Assert.Equal(5, parsed.OutputInterface);
        Assert.True(parsed.OnLink);
        Assert.True(parsed.Destination.IsIPv6);
    }

    [Fact]
    public void NeighbourReplace_V6Permanent_UsesAfInet6()
    {
        // ip -6 neigh replace 2001:db8:100:2:: lladdr 0e:aa:bb:cc:dd:01 dev <5> nud permanent
        var neighbour = new Neighbour { InterfaceIndex = 5, Address = IPAddress.Parse("2001:db8:100:2::"), LinkAddress = Mac };

        string hex = Hex((ref NetlinkWriter w) => NeighbourCodec.WriteNeighbour(ref w, 28, NeighbourCodec.ReplaceFlags, 1, neighbour));

        Assert.Equal(Golden(
            "3c000000 1c00 0505 01000000 00000000",   // len 60, RTM_NEWNEIGH
            "0a 00 0000 05000000 8000 00 00",           // AF_INET6, ifindex 5, NUD_PERMANENT
            "1400 0100 20010db8010000020000000000000000",  // NDA_DST
            "0a00 0200 0eaabbccdd01 0000"),             // NDA_LLADDR
            hex);
    }

    [Fact]
    public void FdbReplace_V6Dst_CarriesSixteenByteNdaDst()
    {
        // bridge fdb replace 0e:aa:bb:cc:dd:01 dev <2> dst 2001:db8:0:1::2 self permanent
        var entry = new FdbEntry { InterfaceIndex = 2, LinkAddress = Mac, Destination = IPAddress.Parse("2001:db8:0:1::2") };

        string hex = Hex((ref NetlinkWriter w) => NeighbourCodec.WriteFdb(ref w, 28, NeighbourCodec.ReplaceFlags, 1, entry));

        Assert.Equal(Golden(
            "3c000000 1c00 0505 01000000 00000000",   // len 60
            "07 00 0000 02000000 8000 02 00",           // AF_BRIDGE, ifindex 2, NUD_PERMANENT, NTF_SELF
            "0a00 0200 0eaabbccdd01 0000",              // NDA_LLADDR
            "1400 0100 20010db8000000010000000000000002"),  // NDA_DST
            hex);
    }

    [Fact]
    public void FdbParse_V6Dst_RoundTrips()
    {
        var entry = new FdbEntry { InterfaceIndex = 2, LinkAddress = Mac, Destination = IPAddress.Parse("2001:db8:0:1::2") };
        using var buffer = new NetlinkBuffer();
        var writer = new NetlinkWriter(buffer);
        NeighbourCodec.WriteFdb(ref writer, 28, NeighbourCodec.ReplaceFlags, 1, entry);
        var reader = new NetlinkMessageReader(buffer.Span.ToArray());

        Assert.True(reader.TryRead(out NetlinkMessage message));
        Assert.True(NeighbourCodec.FdbParser(message, out FdbEntry? parsed));
        Assert.Equal(entry.Destination, parsed.Destination);
        Assert.Equal(entry.LinkAddress, parsed.LinkAddress);
    }

    [Fact]
    public void AddressAdd_V6Host_IsSlash128WithLocalAndAddress()
    {
        // ip -6 addr add 2001:db8:100:1::/128 dev <5>
        string hex = Hex((ref NetlinkWriter w) => AddressCodec.WriteModify(ref w, 20, 0x605, 1, 5, IpPrefix.Parse("2001:db8:100:1::/128")));

        Assert.Equal(Golden(
            "40000000 1400 0506 01000000 00000000",   // len 64, RTM_NEWADDR, REQUEST|ACK|EXCL|CREATE
            "0a 80 00 00 05000000",                     // AF_INET6, /128, index 5
            "1400 0200 20010db8010000010000000000000000",  // IFA_LOCAL
            "1400 0100 20010db8010000010000000000000000"), // IFA_ADDRESS
            hex);
    }

    [Fact]
    public void LinkCreate_VxlanLocal6_UsesIflaVxlanLocal6()
    {
        // ip link add flannel-v6.1 mtu 1450 type vxlan id 1 dev <2> local 2001:db8:0:1::1 dstport 8472 nolearning
        var spec = new VxlanLinkSpec("flannel-v6.1", new VxlanSettings
        {
            Vni = 1,
            UnderlayIndex = 2,
            Local = IPAddress.Parse("2001:db8:0:1::1"),
            Port = 8472,
        })
        { Mtu = 1450 };

        string hex = Hex((ref NetlinkWriter w) => LinkCodec.WriteCreate(ref w, 1, spec));

        Assert.Equal(Golden(
            "94000000 1000 0506 01000000 00000000",   // len 148, RTM_NEWLINK, REQUEST|ACK|EXCL|CREATE
            "00 00 0000 00000000 00000000 00000000",
            "1100 0300 666c616e6e656c2d76362e3100 000000",  // IFLA_IFNAME "flannel-v6.1\0"
            "0800 0400 aa050000",                       // IFLA_MTU 1450
            "5800 1200",                                // IFLA_LINKINFO, 88 bytes
            "0a00 0100 76786c616e00 0000",              // IFLA_INFO_KIND "vxlan\0"
            "4800 0200",                                // IFLA_INFO_DATA, 72 bytes
            "0800 0100 01000000",                       // IFLA_VXLAN_ID 1
            "0800 0300 02000000",                       // IFLA_VXLAN_LINK 2
            "1400 1100 20010db8000000010000000000000001",  // IFLA_VXLAN_LOCAL6
            "0500 0700 00 000000",                      // IFLA_VXLAN_LEARNING 0
            "0500 0d00 00 000000",                      // IFLA_VXLAN_L2MISS 0
            "0500 0e00 00 000000",                      // IFLA_VXLAN_L3MISS 0
            "0600 0f00 2118 0000"),                     // IFLA_VXLAN_PORT 8472
            hex);
    }
}
