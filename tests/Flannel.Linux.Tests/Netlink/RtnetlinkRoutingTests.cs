using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using Flannel.Linux.Interop;
using Flannel.Linux.Netlink;

namespace Flannel.Linux.Tests.Netlink;

/// <summary>Addresses, routes, neighbours and FDB entries against the real kernel, inside throwaway namespaces.</summary>
public sealed class RtnetlinkRoutingTests
{
    private static readonly PhysicalAddress RemoteVtepMac = PhysicalAddress.Parse("0E-AA-BB-CC-DD-01");

    /// <summary>A namespace with an up veth pair "eth0"/"eth1", eth0 holding 192.0.2.1/24 and 2001:db8::1/64.</summary>
    private static async Task<(TestNamespace Ns, Link Eth0)> UnderlayAsync(string name, CancellationToken ct)
    {
        var ns = new TestNamespace(name);
        try
        {
            Link eth0 = await ns.Netlink.CreateLinkAsync(new VethLinkSpec("eth0", "eth1") { Up = true }, ct);
            Link eth1 = (await ns.Netlink.FindLinkAsync("eth1", ct))!;
            await ns.Netlink.SetLinkUpAsync(eth1.Index, ct);
            await ns.Netlink.AddAddressAsync(eth0.Index, IpPrefix.Parse("192.0.2.1/24"), ct);
            await ns.Netlink.AddAddressAsync(eth0.Index, IpPrefix.Parse("2001:db8::1/64"), ct);
            return (ns, eth0);
        }
        catch
        {
            ns.Dispose();
            throw;
        }
    }

    private static async Task<Link> VxlanAsync(TestNamespace ns, Link underlay, CancellationToken ct) =>
        await ns.Netlink.CreateLinkAsync(
            new VxlanLinkSpec("flannel.1", new VxlanSettings { Vni = 1, Local = IPAddress.Parse("192.0.2.1"), UnderlayIndex = underlay.Index }) { Up = true },
            ct);

    [Fact]
    public async Task ListAddressesAsync_AfterAddV4AndV6_ListsBoth()
    {
        CancellationToken ct = TestNamespace.Timeout;
        (TestNamespace ns, Link eth0) = await UnderlayAsync("addr", ct);
        using (ns)
        {
            IReadOnlyList<InterfaceAddress> v4 = await ns.Netlink.ListAddressesAsync(AddressFamily.InterNetwork, eth0.Index, ct);
            IReadOnlyList<InterfaceAddress> v6 = await ns.Netlink.ListAddressesAsync(AddressFamily.InterNetworkV6, eth0.Index, ct);

            InterfaceAddress a4 = Assert.Single(v4);
            Assert.Equal(IpPrefix.Parse("192.0.2.1/24"), a4.Prefix);
            Assert.Equal("eth0", a4.Label);
            Assert.True(a4.IsPermanent);
            Assert.Contains(v6, a => a.Prefix == IpPrefix.Parse("2001:db8::1/64") && a.Scope == 0);
            Assert.All(v6, a => Assert.Equal(eth0.Index, a.InterfaceIndex));
        }
    }

    [Fact]
    public async Task AddressOperations_AddExistingThenReplaceThenDelete_BehaveLikeIpAddr()
    {
        CancellationToken ct = TestNamespace.Timeout;
        (TestNamespace ns, Link eth0) = await UnderlayAsync("addrops", ct);
        using (ns)
        {
            var prefix = IpPrefix.Parse("198.18.1.0/32");
            await ns.Netlink.AddAddressAsync(eth0.Index, prefix, ct);

            NetlinkException duplicate = await Assert.ThrowsAsync<NetlinkException>(() => ns.Netlink.AddAddressAsync(eth0.Index, prefix, ct));
            await ns.Netlink.ReplaceAddressAsync(eth0.Index, prefix, ct);
            bool deleted = await ns.Netlink.TryDeleteAddressAsync(eth0.Index, prefix, ct);
            bool deletedAgain = await ns.Netlink.TryDeleteAddressAsync(eth0.Index, prefix, ct);

            Assert.Equal(Errno.EEXIST, duplicate.Errno);
            Assert.Contains("address 198.18.1.0/32 dev eth0", duplicate.Message, StringComparison.Ordinal);
            Assert.True(deleted);
            Assert.False(deletedAgain);
            Assert.DoesNotContain(await ns.Netlink.ListAddressesAsync(AddressFamily.InterNetwork, eth0.Index, ct), a => a.Prefix == prefix);
        }
    }

    [Fact]
    public async Task ReplaceRouteAsync_OnlinkViaSubnetAddress_IsInstalledAndReplaced()
    {
        CancellationToken ct = TestNamespace.Timeout;
        (TestNamespace ns, Link eth0) = await UnderlayAsync("route", ct);
        using (ns)
        {
            Link vxlan = await VxlanAsync(ns, eth0, ct);
            var route = new Route
            {
                Destination = IpPrefix.Parse("198.18.5.0/24"),
                Gateway = IPAddress.Parse("198.18.5.0"),
                OutputInterface = vxlan.Index,
                OnLink = true,
            };

            await ns.Netlink.ReplaceRouteAsync(route, ct);
            await ns.Netlink.ReplaceRouteAsync(route with { Gateway = IPAddress.Parse("198.18.5.1") }, ct);
            IReadOnlyList<Route> routes = await ns.Netlink.ListRoutesAsync(AddressFamily.InterNetwork, ct);

            Route installed = Assert.Single(routes, r => r.Destination == route.Destination);
            Assert.Equal(IPAddress.Parse("198.18.5.1"), installed.Gateway);
            Assert.Equal(vxlan.Index, installed.OutputInterface);
            Assert.True(installed.OnLink);
            Assert.Equal(RouteProtocol.Boot, installed.Protocol);
            Assert.Equal(RouteScope.Universe, installed.Scope);
        }
    }

    [Fact]
    public async Task AddRouteAsync_ExistingRoute_ThrowsEexistNamingRouteAndDevice()
    {
        CancellationToken ct = TestNamespace.Timeout;
        (TestNamespace ns, Link eth0) = await UnderlayAsync("routeex", ct);
        using (ns)
        {
            var route = new Route { Destination = IpPrefix.Parse("198.18.6.0/24"), Gateway = IPAddress.Parse("192.0.2.2"), OutputInterface = eth0.Index };
            await ns.Netlink.AddRouteAsync(route, ct);

            NetlinkException error = await Assert.ThrowsAsync<NetlinkException>(() => ns.Netlink.AddRouteAsync(route, ct));

            Assert.Equal(Errno.EEXIST, error.Errno);
            Assert.Equal("add route 198.18.6.0/24 via 192.0.2.2 dev eth0: EEXIST", error.Message.Split(" (", 2)[0]);
        }
    }

    [Fact]
    public async Task ReplaceRouteAsync_GatewayNotOnLinkWithoutOnlink_ThrowsWithKernelReason()
    {
        CancellationToken ct = TestNamespace.Timeout;
        (TestNamespace ns, Link eth0) = await UnderlayAsync("routebad", ct);
        using (ns)
        {
            var route = new Route { Destination = IpPrefix.Parse("198.18.7.0/24"), Gateway = IPAddress.Parse("198.18.99.1"), OutputInterface = eth0.Index };

            NetlinkException error = await Assert.ThrowsAsync<NetlinkException>(() => ns.Netlink.ReplaceRouteAsync(route, ct));

            Assert.Equal(Errno.ENETUNREACH, error.Errno);
            Assert.StartsWith("replace route 198.18.7.0/24 via 198.18.99.1 dev eth0: ENETUNREACH", error.Message, StringComparison.Ordinal);
            Assert.False(string.IsNullOrEmpty(error.KernelMessage));
        }
    }

    [Fact]
    public async Task DeleteRouteAsync_V6AndBlackhole_RemovedAndTryDeleteReportsMissing()
    {
        CancellationToken ct = TestNamespace.Timeout;
        (TestNamespace ns, Link eth0) = await UnderlayAsync("route6", ct);
        using (ns)
        {
            var v6 = new Route { Destination = IpPrefix.Parse("2001:db8:5::/64"), Gateway = IPAddress.Parse("2001:db8::2"), OutputInterface = eth0.Index };
            var blackhole = new Route { Destination = IpPrefix.Parse("198.18.0.0/16"), Type = RouteType.Blackhole };
            await ns.Netlink.ReplaceRouteAsync(v6, ct);
            await ns.Netlink.ReplaceRouteAsync(blackhole, ct);
            IReadOnlyList<Route> v6Routes = await ns.Netlink.ListRoutesAsync(AddressFamily.InterNetworkV6, ct);
            IReadOnlyList<Route> v4Routes = await ns.Netlink.ListRoutesAsync(AddressFamily.InterNetwork, ct);

            Assert.Contains(v6Routes, r => r.Destination == v6.Destination && Equals(r.Gateway, v6.Gateway));
            Assert.Contains(v4Routes, r => r.Destination == blackhole.Destination && r.Type == RouteType.Blackhole);
            Assert.True(await ns.Netlink.TryDeleteRouteAsync(v6, ct));
            Assert.True(await ns.Netlink.TryDeleteRouteAsync(blackhole, ct));
            Assert.False(await ns.Netlink.TryDeleteRouteAsync(v6, ct));
            Assert.DoesNotContain(await ns.Netlink.ListRoutesAsync(AddressFamily.InterNetworkV6, ct), r => r.Destination == v6.Destination);
        }
    }

    [Fact]
    public async Task GetRouteAsync_AddressOnLinkAndViaGateway_ReportsDeviceGatewayAndSource()
    {
        CancellationToken ct = TestNamespace.Timeout;
        (TestNamespace ns, Link eth0) = await UnderlayAsync("routeget", ct);
        using (ns)
        {
            await ns.Netlink.AddRouteAsync(new Route { Destination = IpPrefix.Parse("198.18.8.0/24"), Gateway = IPAddress.Parse("192.0.2.254"), OutputInterface = eth0.Index }, ct);

            RouteLookup direct = await ns.Netlink.GetRouteAsync(IPAddress.Parse("192.0.2.7"), ct);
            RouteLookup viaGateway = await ns.Netlink.GetRouteAsync(IPAddress.Parse("198.18.8.9"), ct);
            RouteLookup v6 = await ns.Netlink.GetRouteAsync(IPAddress.Parse("2001:db8::7"), ct);

            Assert.Equal(eth0.Index, direct.OutputInterface);
            Assert.Null(direct.Gateway);
            Assert.True(direct.IsDirect);
            Assert.False(viaGateway.IsDirect);
            Assert.Equal(IPAddress.Parse("192.0.2.1"), direct.PreferredSource);
            Assert.Equal(IPAddress.Parse("192.0.2.254"), viaGateway.Gateway);
            Assert.Equal(eth0.Index, v6.OutputInterface);
        }
    }

    [Fact]
    public async Task GetRouteAsync_Unreachable_ThrowsEnetunreach()
    {
        using var ns = new TestNamespace("routenone");
        CancellationToken ct = TestNamespace.Timeout;

        NetlinkException error = await Assert.ThrowsAsync<NetlinkException>(() => ns.Netlink.GetRouteAsync(IPAddress.Parse("198.18.9.9"), ct));

        Assert.Equal(Errno.ENETUNREACH, error.Errno);
        Assert.Contains("198.18.9.9", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ReplaceNeighbourAsync_Permanent_ListedThenDeleted()
    {
        CancellationToken ct = TestNamespace.Timeout;
        (TestNamespace ns, Link eth0) = await UnderlayAsync("neigh", ct);
        using (ns)
        {
            Link vxlan = await VxlanAsync(ns, eth0, ct);
            var neighbour = new Neighbour { InterfaceIndex = vxlan.Index, Address = IPAddress.Parse("198.18.5.0"), LinkAddress = RemoteVtepMac };

            await ns.Netlink.ReplaceNeighbourAsync(neighbour, ct);
            await ns.Netlink.ReplaceNeighbourAsync(neighbour, ct);
            IReadOnlyList<Neighbour> listed = await ns.Netlink.ListNeighboursAsync(AddressFamily.InterNetwork, vxlan.Index, ct);

            Neighbour entry = Assert.Single(listed);
            Assert.Equal(neighbour.Address, entry.Address);
            Assert.Equal(RemoteVtepMac, entry.LinkAddress);
            Assert.Equal(NeighbourState.Permanent, entry.State);
            Assert.True(await ns.Netlink.TryDeleteNeighbourAsync(neighbour, ct));
            Assert.False(await ns.Netlink.TryDeleteNeighbourAsync(neighbour, ct));
        }
    }

    [Fact]
    public async Task ReplaceFdbAsync_WithDestination_ListedThenDeleted()
    {
        CancellationToken ct = TestNamespace.Timeout;
        (TestNamespace ns, Link eth0) = await UnderlayAsync("fdb", ct);
        using (ns)
        {
            Link vxlan = await VxlanAsync(ns, eth0, ct);
            var entry = new FdbEntry { InterfaceIndex = vxlan.Index, LinkAddress = RemoteVtepMac, Destination = IPAddress.Parse("192.0.2.2") };

            await ns.Netlink.ReplaceFdbAsync(entry, ct);
            await ns.Netlink.ReplaceFdbAsync(entry with { Destination = IPAddress.Parse("192.0.2.3") }, ct);
            IReadOnlyList<FdbEntry> listed = await ns.Netlink.ListFdbAsync(vxlan.Index, ct);

            FdbEntry found = Assert.Single(listed, f => f.LinkAddress.Equals(RemoteVtepMac));
            Assert.Equal(IPAddress.Parse("192.0.2.3"), found.Destination);
            Assert.Equal(NeighbourState.Permanent, found.State);
            Assert.True(await ns.Netlink.TryDeleteFdbAsync(found, ct));
            Assert.False(await ns.Netlink.TryDeleteFdbAsync(found, ct));
            Assert.DoesNotContain(await ns.Netlink.ListFdbAsync(vxlan.Index, ct), f => f.LinkAddress.Equals(RemoteVtepMac));
        }
    }

    [Fact]
    public async Task ExecuteAsync_BatchOfPeers_AllInstalledAndFailuresReportedPerRequest()
    {
        CancellationToken ct = TestNamespace.Timeout;
        (TestNamespace ns, Link eth0) = await UnderlayAsync("batch", ct);
        using (ns)
        {
            Link vxlan = await VxlanAsync(ns, eth0, ct);
            using var batch = new NetlinkBatch();
            const int Peers = 600;
            for (int i = 0; i < Peers; i++)
            {
                var subnet = IPAddress.Parse($"198.18.{i / 256 + 10}.{i % 256}");
                var mac = new PhysicalAddress([0x0e, 0, 0, 0, (byte)(i >> 8), (byte)i]);
                batch.ReplaceNeighbour(new Neighbour { InterfaceIndex = vxlan.Index, Address = subnet, LinkAddress = mac })
                    .ReplaceFdb(new FdbEntry { InterfaceIndex = vxlan.Index, LinkAddress = mac, Destination = IPAddress.Parse($"192.0.2.{i % 200 + 2}") })
                    .ReplaceRoute(new Route { Destination = new IpPrefix(subnet, 32), Gateway = subnet, OutputInterface = vxlan.Index, OnLink = true });
            }

            batch.AddRoute(new Route { Destination = IpPrefix.Parse("198.18.10.0/32"), Gateway = IPAddress.Parse("198.18.10.0"), OutputInterface = vxlan.Index, OnLink = true });

            NetlinkBatchResult result = await ns.Netlink.ExecuteAsync(batch, ct);

            NetlinkException failure = Assert.Single(result.Failures);
            Assert.Equal(Errno.EEXIST, failure.Errno);
            Assert.Equal(Errno.EEXIST, result.ErrnoAt(3 * Peers));
            Assert.Equal(Peers, (await ns.Netlink.ListNeighboursAsync(AddressFamily.InterNetwork, vxlan.Index, ct)).Count);
            Assert.Equal(Peers, (await ns.Netlink.ListFdbAsync(vxlan.Index, ct)).Count(f => f.Destination is not null));
            Assert.Equal(Peers, (await ns.Netlink.ListRoutesAsync(AddressFamily.InterNetwork, ct)).Count(r => r.OutputInterface == vxlan.Index));
        }
    }
}
