using System.Net;
using System.Net.Sockets;
using Flannel.Linux.Interfaces;
using Flannel.Linux.Netlink;

namespace Flannel.Linux.Tests.Interfaces;

public sealed class LinkAddressEnsurerTests
{
    [Fact]
    public async Task EnsureV4Async_OldLeaseAddressPresent_ReplacedAndOutsideAddressKept()
    {
        using var ns = new TestNamespace("ensure4");
        CancellationToken ct = TestNamespace.Timeout;
        Link link = await ns.Netlink.CreateLinkAsync(new VxlanLinkSpec("flannel.1", new VxlanSettings { Vni = 1 }), ct);
        await ns.Netlink.AddAddressAsync(link.Index, IpPrefix.Parse("198.18.7.0/32"), ct);
        await ns.Netlink.AddAddressAsync(link.Index, IpPrefix.Parse("192.0.2.50/32"), ct);

        await LinkAddressEnsurer.EnsureV4Async(ns.Netlink, link.Index, IpPrefix.Parse("198.18.3.0/32"), IpPrefix.Parse("198.18.0.0/16"), ct);
        await LinkAddressEnsurer.EnsureV4Async(ns.Netlink, link.Index, IpPrefix.Parse("198.18.3.0/32"), IpPrefix.Parse("198.18.0.0/16"), ct);

        IEnumerable<string> left = (await ns.Netlink.ListAddressesAsync(AddressFamily.InterNetwork, link.Index, ct)).Select(a => a.Prefix.ToString()).Order();
        Assert.Equal(["192.0.2.50/32", "198.18.3.0/32"], left);
    }

    [Fact]
    public async Task EnsureV6Async_OtherGlobalAddress_Replaced()
    {
        using var ns = new TestNamespace("ensure6");
        CancellationToken ct = TestNamespace.Timeout;
        Link link = await ns.Netlink.CreateLinkAsync(new BridgeLinkSpec("flannel-v6.1"), ct);
        await ns.Netlink.AddAddressAsync(link.Index, IpPrefix.Parse("2001:db8:7::/128"), ct);

        await LinkAddressEnsurer.EnsureV6Async(ns.Netlink, link.Index, IpPrefix.Parse("2001:db8:3::/128"), ct);

        IReadOnlyList<InterfaceAddress> left = await ns.Netlink.ListAddressesAsync(AddressFamily.InterNetworkV6, link.Index, ct);
        Assert.Equal([IpPrefix.Parse("2001:db8:3::/128")], left.Where(a => !a.Prefix.Address.IsIPv6LinkLocal).Select(a => a.Prefix));
    }

    [Theory]
    [InlineData("198.18.0.0/15", "198.19.255.255", true)]
    [InlineData("198.18.0.0/15", "198.20.0.0", false)]
    [InlineData("198.18.4.0/22", "198.18.7.1", true)]
    [InlineData("198.18.4.0/22", "198.18.8.1", false)]
    [InlineData("2001:db8::/32", "2001:db8:ffff::1", true)]
    [InlineData("2001:db8::/32", "198.18.0.1", false)]
    [InlineData("0.0.0.0/0", "192.0.2.1", true)]
    public void IpPrefixContains_Address_ComparesMaskedBits(string prefix, string address, bool expected) =>
        Assert.Equal(expected, IpPrefix.Parse(prefix).Contains(IPAddress.Parse(address)));
}
