using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using Flannel.Linux.Netlink;

namespace Flannel.Linux.Tests.Netlink;

/// <summary>The dual-stack vxlan data path's kernel objects (IPv6 flavour) against the real kernel, in throwaway namespaces.</summary>
public sealed class RtnetlinkIPv6Tests
{
    private static readonly PhysicalAddress RemoteVtepMac = PhysicalAddress.Parse("0E-AA-BB-CC-DD-02");
    private static readonly IPAddress Local6 = IPAddress.Parse("2001:db8:0:1::1");
    private static readonly IPAddress RemotePublic6 = IPAddress.Parse("2001:db8:0:1::2");
    private static readonly IpPrefix RemoteSubnet6 = IpPrefix.Parse("2001:db8:100:2::/64");
    private static readonly IPAddress RemoteVtep6 = IPAddress.Parse("2001:db8:100:2::");

    /// <summary>A namespace with an up veth "eth0" holding 192.0.2.1/24 and 2001:db8:0:1::1/64, and an IPv6 vxlan device on it.</summary>
    private static async Task<(TestNamespace Ns, Link Eth0, Link Vxlan6)> SetUpAsync(string name, CancellationToken ct)
    {
        var ns = new TestNamespace(name);
        try
        {
            Link eth0 = await ns.Netlink.CreateLinkAsync(new VethLinkSpec("eth0", "eth1") { Up = true }, ct);
            await ns.Netlink.SetLinkUpAsync((await ns.Netlink.GetLinkAsync("eth1", ct)).Index, ct);
            await ns.Netlink.AddAddressAsync(eth0.Index, IpPrefix.Parse("192.0.2.1/24"), ct);
            await ns.Netlink.AddAddressAsync(eth0.Index, new IpPrefix(Local6, 64), ct);
            Link vxlan6 = await ns.Netlink.CreateLinkAsync(
                new VxlanLinkSpec("flannel-v6.1", new VxlanSettings { Vni = 1, Port = 8472, Local = Local6, UnderlayIndex = eth0.Index }) { Mtu = 1430, Up = true },
                ct);
            return (ns, eth0, vxlan6);
        }
        catch
        {
            ns.Dispose();
            throw;
        }
    }

    [Fact]
    public async Task CreateLinkAsync_VxlanWithLocal6_ReadsBackIPv6LocalAndSettings()
    {
        CancellationToken ct = TestNamespace.Timeout;
        (TestNamespace ns, Link eth0, Link vxlan6) = await SetUpAsync("v6link", ct);
        using (ns)
        {
            Link read = await ns.Netlink.GetLinkAsync("flannel-v6.1", ct);

            Assert.Equal("vxlan", read.Kind);
            Assert.Equal(1430, read.Mtu);
            VxlanSettings settings = Assert.IsType<VxlanSettings>(read.Vxlan);
            Assert.Equal(Local6, settings.Local);
            Assert.Equal(1u, settings.Vni);
            Assert.Equal(8472, settings.Port);
            Assert.Equal(eth0.Index, settings.UnderlayIndex);
            Assert.False(settings.Learning);
            Assert.Null(settings.IncompatibilityWith(new VxlanSettings { Vni = 1, Port = 8472, Local = Local6, UnderlayIndex = eth0.Index }));
            Assert.Contains("vtep (external) IP", settings.IncompatibilityWith(new VxlanSettings { Vni = 1, Local = RemotePublic6 }), StringComparison.Ordinal);
            Assert.Equal(vxlan6.Index, read.Index);
        }
    }

    [Fact]
    public async Task CreateLinkAsync_VxlanLocal6MtuAboveIPv6Headroom_KernelClampsToUnderlayLess70()
    {
        // Why flanneld gives flannel-v6 the outer MTU less 70, not upstream's 50: the kernel would clamp it anyway.
        CancellationToken ct = TestNamespace.Timeout;
        (TestNamespace ns, Link eth0, _) = await SetUpAsync("v6mtu", ct);
        using (ns)
        {
            Link created = await ns.Netlink.CreateLinkAsync(
                new VxlanLinkSpec("flannel-v6.2", new VxlanSettings { Vni = 2, Local = Local6, UnderlayIndex = eth0.Index }) { Mtu = 1450 }, ct);

            Assert.Equal(1430, created.Mtu);
        }
    }

    [Fact]
    public async Task AddAddressAsync_V6Host_ListedAsSlash128()
    {
        CancellationToken ct = TestNamespace.Timeout;
        (TestNamespace ns, _, Link vxlan6) = await SetUpAsync("v6addr", ct);
        using (ns)
        {
            var own = IpPrefix.Parse("2001:db8:100:1::/128");
            await ns.Netlink.AddAddressAsync(vxlan6.Index, own, ct);

            IReadOnlyList<InterfaceAddress> addresses = await ns.Netlink.ListAddressesAsync(AddressFamily.InterNetworkV6, vxlan6.Index, ct);

            Assert.Contains(addresses, a => a.Prefix == own && a.InterfaceIndex == vxlan6.Index);
            Assert.All(addresses, a => Assert.True(a.Prefix.IsIPv6));
            Assert.True(await ns.Netlink.TryDeleteAddressAsync(vxlan6.Index, own, ct));
            Assert.DoesNotContain(await ns.Netlink.ListAddressesAsync(AddressFamily.InterNetworkV6, vxlan6.Index, ct), a => a.Prefix == own);
        }
    }

    [Fact]
    public async Task PeerEntries_V6NeighbourFdbOnlinkRoute_InstallListAndRemoveInReverse()
    {
        CancellationToken ct = TestNamespace.Timeout;
        (TestNamespace ns, _, Link vxlan6) = await SetUpAsync("v6peer", ct);
        using (ns)
        {
            var neighbour = new Neighbour { InterfaceIndex = vxlan6.Index, Address = RemoteVtep6, LinkAddress = RemoteVtepMac };
            var fdb = new FdbEntry { InterfaceIndex = vxlan6.Index, LinkAddress = RemoteVtepMac, Destination = RemotePublic6 };
            var route = new Route { Destination = RemoteSubnet6, Gateway = RemoteVtep6, OutputInterface = vxlan6.Index, OnLink = true };

            using (var install = new NetlinkBatch())
            {
                install.ReplaceNeighbour(neighbour);
                install.ReplaceFdb(fdb);
                install.ReplaceRoute(route);
                (await ns.Netlink.ExecuteAsync(install, ct)).ThrowIfFailed();
            }

            Neighbour n = Assert.Single(await ns.Netlink.ListNeighboursAsync(AddressFamily.InterNetworkV6, vxlan6.Index, ct), x => x.Address.Equals(RemoteVtep6));
            Assert.Equal(RemoteVtepMac, n.LinkAddress);
            Assert.True((n.State & NeighbourState.Permanent) != 0);
            FdbEntry f = Assert.Single(await ns.Netlink.ListFdbAsync(vxlan6.Index, ct), x => x.Destination is not null);
            Assert.Equal(RemotePublic6, f.Destination);
            Assert.Equal(RemoteVtepMac, f.LinkAddress);
            Route r = Assert.Single(await ns.Netlink.ListRoutesAsync(AddressFamily.InterNetworkV6, ct), x => x.Destination == RemoteSubnet6);
            Assert.Equal(RemoteVtep6, r.Gateway);
            Assert.Equal(vxlan6.Index, r.OutputInterface);
            Assert.True(r.OnLink);

            using (var remove = new NetlinkBatch())
            {
                remove.DeleteRoute(route);
                remove.DeleteFdb(fdb);
                remove.DeleteNeighbour(neighbour);
                (await ns.Netlink.ExecuteAsync(remove, ct)).ThrowIfFailed();
            }

            Assert.DoesNotContain(await ns.Netlink.ListRoutesAsync(AddressFamily.InterNetworkV6, ct), x => x.Destination == RemoteSubnet6);
            Assert.DoesNotContain(await ns.Netlink.ListFdbAsync(vxlan6.Index, ct), x => x.Destination is not null);
            Assert.DoesNotContain(await ns.Netlink.ListNeighboursAsync(AddressFamily.InterNetworkV6, vxlan6.Index, ct), x => x.Address.Equals(RemoteVtep6));
        }
    }

    [Fact]
    public async Task ListRoutesAsync_PerFamily_ReturnsOnlyThatFamily()
    {
        CancellationToken ct = TestNamespace.Timeout;
        (TestNamespace ns, Link eth0, _) = await SetUpAsync("v6dump", ct);
        using (ns)
        {
            await ns.Netlink.ReplaceRouteAsync(new Route { Destination = IpPrefix.Parse("198.18.9.0/24"), Gateway = IPAddress.Parse("192.0.2.2"), OutputInterface = eth0.Index }, ct);
            await ns.Netlink.ReplaceRouteAsync(new Route { Destination = IpPrefix.Parse("2001:db8:100:9::/64"), Gateway = RemotePublic6, OutputInterface = eth0.Index }, ct);

            IReadOnlyList<Route> v4 = await ns.Netlink.ListRoutesAsync(AddressFamily.InterNetwork, ct);
            IReadOnlyList<Route> v6 = await ns.Netlink.ListRoutesAsync(AddressFamily.InterNetworkV6, ct);

            Assert.All(v4, r => Assert.False(r.Destination.IsIPv6));
            Assert.All(v6, r => Assert.True(r.Destination.IsIPv6));
            Assert.Contains(v4, r => r.Destination == IpPrefix.Parse("198.18.9.0/24"));
            Route host = Assert.Single(v6, r => r.Destination == IpPrefix.Parse("2001:db8:100:9::/64"));
            Assert.Equal(RemotePublic6, host.Gateway);
            Assert.False(host.OnLink);
        }
    }
}
