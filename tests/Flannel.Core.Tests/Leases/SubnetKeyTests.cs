using Flannel.Core.Leases;
using Flannel.Core.Net;

namespace Flannel.Core.Tests.Leases;

public class SubnetKeyTests
{
    [Theory]
    [InlineData("198.18.13.0/24", null, "198.18.13.0-24")]
    [InlineData("10.12.13.0/24", "fd00:12:13::/56", "10.12.13.0-24&fd00:12:13::-56")]
    public void Format_MatchesUpstream(string v4, string? v6, string expected)
    {
        Assert.Equal(expected, SubnetKey.Format(Ip4Net.Parse(v4), v6 is null ? null : Ip6Net.Parse(v6)));
    }

    [Fact]
    public void Format_Ipv6Only_UsesEmptyIpv4Part()
    {
        Assert.Equal("0.0.0.0-0&2001:db8:1::-64", SubnetKey.Format(null, Ip6Net.Parse("2001:db8:1::/64")));
    }

    [Theory]
    [InlineData("/coreos.com/network/subnets/198.18.13.0-24", "198.18.13.0/24", null)]
    [InlineData("198.18.13.0-24&2001:db8:1::-64", "198.18.13.0/24", "2001:db8:1::/64")]
    [InlineData("0.0.0.0-0&2001:db8:1::-64", null, "2001:db8:1::/64")]
    public void TryParse_ValidKeys(string key, string? v4, string? v6)
    {
        Assert.True(SubnetKey.TryParse(key, out Ip4Net? subnet, out Ip6Net? subnet6));
        Assert.Equal(v4 is null ? null : Ip4Net.Parse(v4), subnet);
        Assert.Equal(v6 is null ? null : Ip6Net.Parse(v6), subnet6);
    }

    [Theory]
    [InlineData("")]
    [InlineData("garbage")]
    [InlineData("198.18.13.0")]
    [InlineData("198.18.13.0-33")]
    [InlineData("198.18.13.1-24")]
    [InlineData("198.18.13-24")]
    [InlineData("198.18.13.0-24&")]
    [InlineData("198.18.13.0-24&zz::-64")]
    [InlineData("198.18.13.0-024")]
    public void TryParse_BadKeys_False(string key)
    {
        Assert.False(SubnetKey.TryParse(key, out _, out _));
    }
}
