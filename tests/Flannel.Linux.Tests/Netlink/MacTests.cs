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
}
