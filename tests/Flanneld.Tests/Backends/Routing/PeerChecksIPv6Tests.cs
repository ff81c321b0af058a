using System.Net;
using Flannel.Core.Leases;
using Flannel.Core.Net;
using Flannel.Linux.Netlink;
using Flanneld.Backends.Routing;

namespace Flanneld.Tests.Backends.Routing;

public class PeerChecksIPv6Tests
{
    private static readonly Ip6Net Network = Ip6Net.Parse("2001:db8:100::/56");
    private static readonly Ip6Net Own = Ip6Net.Parse("2001:db8:100:1::/64");

    private static Lease L(string subnet6, string? ip6, string? type = "vxlan") =>
        new(Ip4Net.Parse("198.18.2.0/24"), Ip6Net.Parse(subnet6), new LeaseAttrs(IPAddress.Parse("192.0.2.2"), ip6 is null ? null : IPAddress.Parse(ip6), type));

    [Fact]
    public void ValidateIPv6_GoodPeer_Null()
    {
        Assert.Null(PeerChecks.ValidateIPv6(L("2001:db8:100:2::/64", "2001:db8:0:1::2"), "vxlan", Network, 64, Own));
    }

    [Theory]
    [InlineData("2001:db8:100:2::/64", "2001:db8:0:1::2", "host-gw", "backend type")]
    [InlineData("2001:db8:200:2::/64", "2001:db8:0:1::2", "vxlan", "outside the IPv6 network")]
    [InlineData("2001:db8:100:2::/72", "2001:db8:0:1::2", "vxlan", "IPv6SubnetLen")]
    [InlineData("2001:db8:100:1:8000::/65", "2001:db8:0:1::2", "vxlan", "IPv6SubnetLen")]
    [InlineData("2001:db8:100:2::/64", null, "vxlan", "PublicIPv6 (none)")]
    [InlineData("2001:db8:100:2::/64", "::", "vxlan", "not a unicast")]
    [InlineData("2001:db8:100:2::/64", "::1", "vxlan", "not a unicast")]
    [InlineData("2001:db8:100:2::/64", "ff02::1", "vxlan", "not a unicast")]
    [InlineData("2001:db8:100:2::/64", "fe80::1", "vxlan", "not a unicast")]
    public void ValidateIPv6_BadPeer_SaysWhy(string subnet6, string? ip6, string type, string reason)
    {
        Assert.Contains(reason, PeerChecks.ValidateIPv6(L(subnet6, ip6, type), "vxlan", Network, 64, Own), StringComparison.Ordinal);
    }

    [Fact]
    public void ValidateIPv6_OverlapsOwnSubnet_Refused()
    {
        Assert.Contains("overlaps", PeerChecks.ValidateIPv6(L("2001:db8:100:1:8000::/65", "2001:db8:0:1::9"), "vxlan", Network, 0, Own), StringComparison.Ordinal);
    }

    [Fact]
    public void ValidateIPv6_NoIPv6Subnet_SaysSo()
    {
        var lease = new Lease(Ip4Net.Parse("198.18.2.0/24"), null, new LeaseAttrs(IPAddress.Parse("192.0.2.2"), null, "vxlan"));
        Assert.Equal("no IPv6 subnet", PeerChecks.ValidateIPv6(lease, "vxlan", Network, 64, Own));
    }

    [Fact]
    public void Validate_V4WithIPv6PublicIP_Refused()
    {
        var lease = new Lease(Ip4Net.Parse("198.18.2.0/24"), null, new LeaseAttrs(IPAddress.Parse("2001:db8::2"), null, "vxlan"));
        Assert.Contains("not a unicast", PeerChecks.Validate(lease, "vxlan", Ip4Net.Parse("198.18.0.0/16"), 24, Ip4Net.Parse("198.18.1.0/24")), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("2001:db8:100:2::/64", true)]
    [InlineData("2001:db8:100:1::/64", false)]
    [InlineData("2001:db8:100:1::/128", false)]
    [InlineData("2001:db8:100::/56", false)]
    [InlineData("2001:db8:200::/64", false)]
    [InlineData("198.18.2.0/24", false)]
    public void IsPeerRoute_V6_OnlyRemoteSubnetsOfTheNetwork(string destination, bool expected)
    {
        var route = new Route { Destination = IpPrefix.Parse(destination), Gateway = IPAddress.Parse("2001:db8:0:1::2") };
        Assert.Equal(expected, PeerChecks.IsPeerRoute(route, Network, Own));
    }

    [Fact]
    public void OnSameLink_V6Prefixes_MatchesOnlyInside()
    {
        IReadOnlyList<IpPrefix> prefixes = [IpPrefix.Parse("2001:db8:0:1::1/64")];
        Assert.True(PeerChecks.OnSameLink(IPAddress.Parse("2001:db8:0:1::2"), prefixes));
        Assert.False(PeerChecks.OnSameLink(IPAddress.Parse("2001:db8:0:2::2"), prefixes));
        Assert.False(PeerChecks.OnSameLink(IPAddress.Parse("192.0.2.2"), prefixes));
    }
}
