using System.Net;
using System.Net.Sockets;
using Flannel.Linux.Interfaces;
using Flannel.Linux.Netlink;

namespace Flannel.Linux.Tests.Interfaces;

public sealed class AddressPreferenceTests
{
    private static InterfaceAddress Address(string cidr, uint flags = InterfaceAddress.FlagPermanent) =>
        new() { InterfaceIndex = 2, Prefix = IpPrefix.Parse(cidr), Flags = flags };

    [Fact]
    public void Order_LinkLocalFirstInKernelOrder_GlobalComesFirst()
    {
        IReadOnlyList<IPAddress> order = AddressPreference.Order(
            [Address("169.254.3.4/16"), Address("192.0.2.5/24"), Address("127.0.0.2/8")], AddressFamily.InterNetwork);

        Assert.Equal([IPAddress.Parse("192.0.2.5"), IPAddress.Parse("169.254.3.4")], order);
    }

    [Fact]
    public void Order_DynamicBeforePermanent_PermanentComesFirst()
    {
        IReadOnlyList<IPAddress> order = AddressPreference.Order(
            [Address("192.0.2.7/24", flags: 0), Address("192.0.2.5/24")], AddressFamily.InterNetwork);

        Assert.Equal(IPAddress.Parse("192.0.2.5"), order[0]);
    }

    [Fact]
    public void Order_TemporaryAndDeprecatedV6_TemporaryLastDeprecatedDropped()
    {
        IReadOnlyList<IPAddress> order = AddressPreference.Order(
            [
                Address("2001:db8::a/64", InterfaceAddress.FlagPermanent | InterfaceAddress.FlagTemporary),
                Address("2001:db8::b/64", InterfaceAddress.FlagPermanent | InterfaceAddress.FlagDeprecated),
                Address("fe80::1/64"),
                Address("2001:db8::c/64"),
                Address("192.0.2.1/24"),
            ],
            AddressFamily.InterNetworkV6);

        Assert.Equal([IPAddress.Parse("2001:db8::c"), IPAddress.Parse("2001:db8::a"), IPAddress.Parse("fe80::1")], order);
    }

    [Theory]
    [InlineData("192.0.2.1", true)]
    [InlineData("0.0.0.0", false)]
    [InlineData("127.0.0.1", false)]
    [InlineData("224.0.0.1", false)]
    [InlineData("255.255.255.255", false)]
    [InlineData("169.254.1.1", false)]
    [InlineData("2001:db8::1", true)]
    [InlineData("fe80::1", false)]
    [InlineData("ff02::1", false)]
    [InlineData("::1", false)]
    public void IsGlobalUnicast_Address_MatchesGoSemantics(string address, bool expected) =>
        Assert.Equal(expected, AddressPreference.IsGlobalUnicast(IPAddress.Parse(address)));
}
