using System.Net;
using Flannel.Core.Leases;
using Flannel.Core.Net;

namespace Flannel.Core.Tests.Leases;

public class LeaseTests
{
    private static readonly LeaseAttrs Attrs = new(IPAddress.Parse("192.0.2.2"), null, "vxlan", """{"VNI":1,"VtepMAC":"0a:00:00:00:00:02"}""");

    [Fact]
    public void Key_NamesTheSubnets()
    {
        Assert.Equal("198.18.2.0-24", new Lease(Ip4Net.Parse("198.18.2.0/24"), null, Attrs).Key);
        Assert.Equal("198.18.2.0-24&2001:db8:0:2::-64", new Lease(Ip4Net.Parse("198.18.2.0/24"), Ip6Net.Parse("2001:db8:0:2::/64"), Attrs).Key);
        Assert.Equal("0.0.0.0-0&2001:db8:0:2::-64", new Lease(null, Ip6Net.Parse("2001:db8:0:2::/64"), Attrs).Key);
    }

    [Fact]
    public void Key_FollowsASubnetChangedByWith()
    {
        var lease = new Lease(Ip4Net.Parse("198.18.2.0/24"), null, Attrs);
        Assert.Equal("198.18.3.0-24", (lease with { Subnet = Ip4Net.Parse("198.18.3.0/24") }).Key);
        Assert.Equal("198.18.2.0-24&2001:db8:0:2::-64", (lease with { IPv6Subnet = Ip6Net.Parse("2001:db8:0:2::/64") }).Key);
        Assert.Same(lease.Key, (lease with { Revision = 7 }).Key);
    }

    [Fact]
    public void Equality_DoesNotDependOnWhetherTheKeyWasRead()
    {
        var a = new Lease(Ip4Net.Parse("198.18.2.0/24"), null, Attrs, DateTimeOffset.UnixEpoch);
        var b = new Lease(Ip4Net.Parse("198.18.2.0/24"), null, Attrs, DateTimeOffset.UnixEpoch);
        _ = a.Key;
        Assert.Equal(a, b);
        Assert.Equal(a.GetHashCode(), b.GetHashCode());
        Assert.NotEqual(a, b with { Subnet = Ip4Net.Parse("198.18.3.0/24") });
    }
}
