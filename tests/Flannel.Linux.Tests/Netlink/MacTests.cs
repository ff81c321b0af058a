using System.Net.NetworkInformation;
using Flannel.Linux.Netlink;

namespace Flannel.Linux.Tests.Netlink;

public sealed class MacTests
{
    [Fact]
    public void NewLocallyAdministered_Always_LocalBitSetMulticastBitClear()
    {
        for (int i = 0; i < 64; i++)
        {
            byte first = Mac.NewLocallyAdministered().GetAddressBytes()[0];
            Assert.Equal(0x02, first & 0x03);
        }
    }

    [Fact]
    public void FormatAndParse_RoundTrip_LowercaseColons()
    {
        PhysicalAddress mac = Mac.Parse("0E:AA:bb:cc:dd:01");

        Assert.Equal("0e:aa:bb:cc:dd:01", Mac.Format(mac));
    }

    [Fact]
    public void Parse_NotAMac_ThrowsNamingValue()
    {
        FormatException error = Assert.Throws<FormatException>(() => Mac.Parse("0e:aa:bb"));

        Assert.Contains("'0e:aa:bb'", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("0e:aa:bb:cc:dd:01", "0e:aa:bb:cc:dd:01")]
    [InlineData("0E-AA-BB-CC-DD-01", "0e:aa:bb:cc:dd:01")]
    public void TryParse_ColonOrDashSeparated_SixBytes(string text, string expected)
    {
        Span<byte> bytes = stackalloc byte[6];

        Assert.True(Mac.TryParse(text, bytes));
        Assert.Equal(expected, Mac.Format(new PhysicalAddress(bytes.ToArray())));
    }

    [Theory]
    [InlineData("")]
    [InlineData("0e:aa:bb:cc:dd")]
    [InlineData("0e:aa:bb:cc:dd:01:02")]
    [InlineData("0e:aa-bb:cc:dd:01")]
    [InlineData("0e:aa:bb:cc:dd:0g")]
    [InlineData("0e:aa:bb:cc:dd:+1")]
    [InlineData("0eaabbccdd01")]
    [InlineData("0e.aa.bb.cc.dd.01")]
    public void TryParse_NotSixColonSeparatedBytes_False(string text)
    {
        Span<byte> bytes = stackalloc byte[6];

        Assert.False(Mac.TryParse(text, bytes));
    }
}
