using CsCheck;
using Flannel.Core.Net;

namespace Flannel.Core.Tests.Net;

public class Ip4NetTests
{
    [Theory]
    [InlineData("198.18.0.0/16", true)]
    [InlineData("198.18.0.1/16", true)]
    [InlineData("0.0.0.0/0", true)]
    [InlineData("255.255.255.255/32", true)]
    [InlineData("198.18.0.0/33", false)]
    [InlineData("198.18.0/16", false)]
    [InlineData("198.18.0.0", false)]
    [InlineData("198.18.0.00/16", false)]
    [InlineData("198.18.0.256/16", false)]
    [InlineData("198.18.0.0/016", false)]
    [InlineData(" 198.18.0.0/16", false)]
    public void TryParse_Cases(string text, bool valid)
    {
        Assert.Equal(valid, Ip4Net.TryParse(text, out _));
    }

    [Fact]
    public void Canonical_DropsHostBits()
    {
        Assert.Equal(Ip4Net.Parse("198.18.0.0/16"), Ip4Net.Parse("198.18.3.7/16").Canonical);
    }

    [Fact]
    public void Next_Contains_Overlaps()
    {
        Ip4Net a = Ip4Net.Parse("198.18.1.0/24");
        Assert.Equal(Ip4Net.Parse("198.18.2.0/24"), a.Next());
        Assert.True(Ip4Net.Parse("198.18.0.0/16").Contains(a));
        Assert.False(a.Contains(Ip4Net.Parse("198.18.0.0/16")));
        Assert.True(a.Overlaps(Ip4Net.Parse("198.18.0.0/16")));
        Assert.False(a.Overlaps(Ip4Net.Parse("198.18.2.0/24")));
    }

    [Fact]
    public void FormatParse_RoundTrips()
    {
        Gen.Select(Gen.UInt, Gen.Int[0, 32]).Sample((address, prefix) =>
        {
            var net = new Ip4Net(address, prefix);
            return Ip4Net.Parse(net.ToString()) == net;
        });
    }

    [Fact]
    public void Contains_AgreesWithMaskArithmetic()
    {
        Gen.Select(Gen.UInt, Gen.Int[0, 32], Gen.UInt).Sample((address, prefix, probe) =>
        {
            var net = new Ip4Net(address, prefix).Canonical;
            bool inRange = probe >= net.Address && probe <= net.Last;
            return net.Contains(probe) == inRange;
        });
    }
}

public class Ip6NetTests
{
    [Theory]
    [InlineData("2001:db8::/32", true)]
    [InlineData("2001:db8::1/64", true)]
    [InlineData("2001:db8::/129", false)]
    [InlineData("192.0.2.1/24", false)]
    [InlineData("2001:db8::%eth0/64", false)]
    public void TryParse_Cases(string text, bool valid)
    {
        Assert.Equal(valid, Ip6Net.TryParse(text, out _));
    }

    [Fact]
    public void Next_And_Format()
    {
        Ip6Net a = Ip6Net.Parse("2001:db8:0:1::/64");
        Assert.Equal("2001:db8:0:2::/64", a.Next().ToString());
        Assert.True(Ip6Net.Parse("2001:db8::/48").Contains(a));
    }

    [Fact]
    public void FormatParse_RoundTrips()
    {
        Gen.Select(Gen.ULong, Gen.ULong, Gen.Int[0, 128]).Sample((hi, lo, prefix) =>
        {
            var net = new Ip6Net(new UInt128(hi, lo), prefix);
            return Ip6Net.Parse(net.ToString()) == net;
        });
    }
}
