using System.Net;
using Flannel.Core.Leases;
using Flannel.Core.Net;
using Flanneld.Backends.Routing;

namespace Flanneld.Tests.Backends.Routing;

public class PeerChecksTests
{
    private static readonly Ip4Net Network = Ip4Net.Parse("198.18.0.0/16");
    private static readonly Ip4Net Own = Ip4Net.Parse("198.18.1.0/24");

    private static Lease L(string subnet, string ip, string? type = "vxlan") =>
        new(Ip4Net.Parse(subnet), null, new LeaseAttrs(IPAddress.Parse(ip), null, type));

    [Fact]
    public void Validate_GoodPeer_Null()
    {
        Assert.Null(PeerChecks.Validate(L("198.18.2.0/24", "192.0.2.2"), "vxlan", Network, 24, Own));
    }

    [Theory]
    [InlineData("198.18.2.0/24", "192.0.2.2", "host-gw", "backend type")]
    [InlineData("198.19.2.0/24", "192.0.2.2", "vxlan", "outside the network")]
    [InlineData("198.18.0.0/16", "192.0.2.2", "vxlan", "SubnetLen")]
    [InlineData("198.18.2.128/25", "192.0.2.2", "vxlan", "SubnetLen")]
    [InlineData("198.18.2.0/24", "0.0.0.0", "vxlan", "not a unicast")]
    [InlineData("198.18.2.0/24", "224.0.0.5", "vxlan", "not a unicast")]
    [InlineData("198.18.2.0/24", "255.255.255.255", "vxlan", "not a unicast")]
    [InlineData("198.18.2.0/24", "127.0.0.1", "vxlan", "not a unicast")]
    public void Validate_BadPeer_SaysWhy(string subnet, string ip, string type, string reason)
    {
        Assert.Contains(reason, PeerChecks.Validate(L(subnet, ip, type), "vxlan", Network, 24, Own), StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_OverlapsOwnSubnet_Refused()
    {
        Assert.Contains("overlaps", PeerChecks.Validate(L("198.18.1.0/25", "192.0.2.9"), "vxlan", Network, 0, Own), StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_KubernetesModeWithoutSubnetLen_AcceptsOtherSizes()
    {
        Assert.Null(PeerChecks.Validate(L("198.18.4.0/23", "192.0.2.2"), "vxlan", Network, 0, Own));
    }
}
