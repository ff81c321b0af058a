using System.Net;
using Flannel.Linux.Interfaces;
using Flannel.Linux.Netlink;

namespace Flannel.Linux.Tests.Interfaces;

/// <summary>
/// A namespace with two up veth ends: eth0 (192.0.2.1/24, 2001:db8::1/64, default routes) and
/// eth1 (198.18.0.1/24, 2001:db8:1::1/64, MTU 1400).
/// </summary>
public sealed class TwoInterfaceNamespace : IAsyncLifetime
{
    public TestNamespace Ns { get; } = new("iface");

    public async Task InitializeAsync()
    {
        CancellationToken ct = TestNamespace.Timeout;
        Rtnetlink nl = Ns.Netlink;
        Link eth0 = await nl.CreateLinkAsync(new VethLinkSpec("eth0", "eth1") { Up = true }, ct);
        Link eth1 = (await nl.FindLinkAsync("eth1", ct))!;
        await nl.ChangeLinkAsync(eth1.Index, new LinkChange { Up = true, Mtu = 1400 }, ct);
        await nl.AddAddressAsync(eth0.Index, IpPrefix.Parse("192.0.2.1/24"), ct);
        await nl.AddAddressAsync(eth0.Index, IpPrefix.Parse("2001:db8::1/64"), ct);
        await nl.AddAddressAsync(eth1.Index, IpPrefix.Parse("198.18.0.1/24"), ct);
        await nl.AddAddressAsync(eth1.Index, IpPrefix.Parse("2001:db8:1::1/64"), ct);
        await nl.AddRouteAsync(new Route { Destination = IpPrefix.Parse("0.0.0.0/0"), Gateway = IPAddress.Parse("192.0.2.254"), OutputInterface = eth0.Index }, ct);
        await nl.AddRouteAsync(new Route { Destination = IpPrefix.Parse("::/0"), Gateway = IPAddress.Parse("2001:db8::fe"), OutputInterface = eth0.Index }, ct);
    }

    public Task DisposeAsync()
    {
        Ns.Dispose();
        return Task.CompletedTask;
    }
}

public sealed class ExternalInterfaceResolverTests(TwoInterfaceNamespace fixture) : IClassFixture<TwoInterfaceNamespace>
{
    private Task<ExternalInterface> ResolveAsync(ExternalInterfaceOptions options) =>
        new ExternalInterfaceResolver(fixture.Ns.Netlink).ResolveAsync(options, TestNamespace.Timeout);

    [Fact]
    public async Task ResolveAsync_NoFlags_UsesDefaultRouteInterface()
    {
        ExternalInterface iface = await ResolveAsync(new ExternalInterfaceOptions());

        Assert.Equal("eth0", iface.Name);
        Assert.Equal(IPAddress.Parse("192.0.2.1"), iface.Address);
        Assert.Equal(IPAddress.Parse("192.0.2.1"), iface.ExternalAddress);
        Assert.Equal(1500, iface.Mtu);
        Assert.NotNull(iface.HardwareAddress);
        Assert.Null(iface.IPv6Address);
    }

    [Fact]
    public async Task ResolveAsync_DualStackNoFlags_TakesBothFamiliesFromDefaultRouteInterface()
    {
        ExternalInterface iface = await ResolveAsync(new ExternalInterfaceOptions { Stack = IpVersions.DualStack });

        Assert.Equal("eth0", iface.Name);
        Assert.Equal(IPAddress.Parse("192.0.2.1"), iface.Address);
        Assert.Equal(IPAddress.Parse("2001:db8::1"), iface.IPv6Address);
        Assert.Equal(IPAddress.Parse("2001:db8::1"), iface.ExternalIPv6Address);
    }

    [Fact]
    public async Task ResolveAsync_IfaceByName_UsesItsAddressAndMtu()
    {
        ExternalInterface iface = await ResolveAsync(new ExternalInterfaceOptions { Interfaces = ["eth1"] });

        Assert.Equal("eth1", iface.Name);
        Assert.Equal(IPAddress.Parse("198.18.0.1"), iface.Address);
        Assert.Equal(1400, iface.Mtu);
    }

    [Fact]
    public async Task ResolveAsync_IfaceByIP_FindsOwningInterface()
    {
        ExternalInterface iface = await ResolveAsync(new ExternalInterfaceOptions { Interfaces = ["198.18.0.1"] });

        Assert.Equal("eth1", iface.Name);
        Assert.Equal(IPAddress.Parse("198.18.0.1"), iface.Address);
    }

    [Fact]
    public async Task ResolveAsync_SeveralIfaces_FirstThatResolvesWins()
    {
        ExternalInterface iface = await ResolveAsync(new ExternalInterfaceOptions { Interfaces = ["nosuch0", "192.0.2.99", "eth1", "eth0"] });

        Assert.Equal("eth1", iface.Name);
    }

    [Fact]
    public async Task ResolveAsync_RegexMatchingAnAddress_PicksThatInterfaceAndAddress()
    {
        ExternalInterface iface = await ResolveAsync(new ExternalInterfaceOptions { InterfaceRegexes = [@"^198\.18\."] });

        Assert.Equal("eth1", iface.Name);
        Assert.Equal(IPAddress.Parse("198.18.0.1"), iface.Address);
    }

    [Fact]
    public async Task ResolveAsync_RegexMatchingOnlyAName_FallsBackToName()
    {
        ExternalInterface iface = await ResolveAsync(new ExternalInterfaceOptions { InterfaceRegexes = ["^eth1$"] });

        Assert.Equal("eth1", iface.Name);
        Assert.Equal(IPAddress.Parse("198.18.0.1"), iface.Address);
    }

    [Fact]
    public async Task ResolveAsync_CanReach_UsesRouteGetDeviceAndSource()
    {
        ExternalInterface iface = await ResolveAsync(new ExternalInterfaceOptions { CanReach = IPAddress.Parse("198.18.0.77") });

        Assert.Equal("eth1", iface.Name);
        Assert.Equal(IPAddress.Parse("198.18.0.1"), iface.Address);
    }

    [Fact]
    public async Task ResolveAsync_PublicIPOnly_UsesInterfaceHoldingIt()
    {
        ExternalInterface iface = await ResolveAsync(new ExternalInterfaceOptions { PublicIP = IPAddress.Parse("198.18.0.1") });

        Assert.Equal("eth1", iface.Name);
        Assert.Equal(IPAddress.Parse("198.18.0.1"), iface.ExternalAddress);
    }

    [Fact]
    public async Task ResolveAsync_PublicIPWithIface_ExternalAddressIsPublicIP()
    {
        ExternalInterface iface = await ResolveAsync(new ExternalInterfaceOptions { Interfaces = ["eth0"], PublicIP = IPAddress.Parse("192.0.2.200") });

        Assert.Equal(IPAddress.Parse("192.0.2.1"), iface.Address);
        Assert.Equal(IPAddress.Parse("192.0.2.200"), iface.ExternalAddress);
    }

    [Fact]
    public async Task ResolveAsync_PublicIPNotLocal_ThrowsNamingTheAddress()
    {
        InterfaceSelectionException error = await Assert.ThrowsAsync<InterfaceSelectionException>(
            () => ResolveAsync(new ExternalInterfaceOptions { PublicIP = IPAddress.Parse("192.0.2.200") }));

        Assert.Contains("192.0.2.200", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ResolveAsync_NothingMatches_ThrowsListingEveryFlagTried()
    {
        InterfaceSelectionException error = await Assert.ThrowsAsync<InterfaceSelectionException>(
            () => ResolveAsync(new ExternalInterfaceOptions { Interfaces = ["nosuch0"], InterfaceRegexes = ["^wlan"] }));

        Assert.Contains("--iface=nosuch0", error.Message, StringComparison.Ordinal);
        Assert.Contains("--iface-regex=^wlan", error.Message, StringComparison.Ordinal);
        Assert.Contains("eth0:[192.0.2.1]", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ResolveAsync_BadRegex_ThrowsNamingThePattern()
    {
        InterfaceSelectionException error = await Assert.ThrowsAsync<InterfaceSelectionException>(
            () => ResolveAsync(new ExternalInterfaceOptions { InterfaceRegexes = ["(eth"] }));

        Assert.Contains("'(eth'", error.Message, StringComparison.Ordinal);
    }
}
