using System.Text.Json.Nodes;
using Flannel.Core.Config;
using Flannel.Lab;

namespace Flannel.EndToEnd.Tests;

/// <summary>
/// A dual-stack cluster: the underlay has IPv6 too and the net-conf enables IPv6 (2001:db8:100::/56, /64 per node;
/// nodes lease below 2001:db8:100:c8::, leases the tests write lie above). Every pod gets an IPv4 and an IPv6 address.
/// </summary>
public abstract class DualStackFixture : ClusterFixture
{
    public const string IPv6Network = "2001:db8:100::/56";

    protected override int PodsPerNode => 1;

    protected override Task<LabCluster> CreateClusterAsync(LabOptions options) => base.CreateClusterAsync(WithIPv6(options));

    /// <summary><paramref name="options"/> with an IPv6 underlay and a net-conf that enables IPv6 in <see cref="IPv6Network"/>.</summary>
    public static LabOptions WithIPv6(LabOptions options) => options with
    {
        IPv6 = true,
        NetConfig = options.NetConfig!.Replace(
            "\"Backend\":",
            $"\"EnableIPv6\":true,\"IPv6Network\":\"{IPv6Network}\",\"IPv6SubnetLen\":64,\"IPv6SubnetMax\":\"2001:db8:100:c7::\",\"Backend\":",
            StringComparison.Ordinal),
    };

    /// <summary>The lease value this node wrote, found by its PublicIP.</summary>
    public async Task<JsonNode> LeaseOfAsync(LabNode node)
    {
        IReadOnlyDictionary<string, string> leases = await Cluster.GetLeasesAsync();
        return leases.Values.Select(v => JsonNode.Parse(v)!).Single(v => (string?)v["PublicIP"] == node.Address);
    }
}

public sealed class DualStackVxlanFixture : DualStackFixture
{
    protected override string Backend => """{"Type":"vxlan"}""";
}

public sealed class DualStackHostGwFixture : DualStackFixture
{
    protected override string Backend => """{"Type":"host-gw"}""";

    protected override int Nodes => 2;
}

public sealed class DualStackVxlanClusterTests(DualStackVxlanFixture fixture) : IClassFixture<DualStackVxlanFixture>
{
    private LabCluster Cluster => fixture.Cluster;

    [Fact]
    public async Task Start_LeaseAndSubnetEnv_CarryIPv6AsUpstream()
    {
        Assert.Equal(3, fixture.Env.Values.Select(e => e.IPv6Subnet).Distinct().Count());
        foreach (LabNode node in fixture.Env.Keys)
        {
            SubnetEnv env = fixture.Env[node];
            Assert.Equal([Flannel.Core.Net.Ip6Net.Parse(DualStackFixture.IPv6Network)], env.IPv6Networks);
            Assert.Equal(64, env.IPv6Subnet!.Value.PrefixLength);
            Assert.NotNull(env.Subnet);
            string text = await File.ReadAllTextAsync(node.SubnetFile);
            Assert.Contains($"FLANNEL_IPV6_NETWORK={DualStackFixture.IPv6Network}\n", text, StringComparison.Ordinal);
            // As upstream: the subnet's first address with the prefix length (2001:db8:100:5::1/64).
            Assert.Contains($"FLANNEL_IPV6_SUBNET={new Flannel.Core.Net.Ip6Net(env.IPv6Subnet.Value.Address + 1, 64)}\n", text, StringComparison.Ordinal);

            JsonNode lease = await fixture.LeaseOfAsync(node);
            string mac = (string)lease["BackendData"]!["VtepMAC"]!;
            string mac6 = (string)lease["BackendV6Data"]!["VtepMAC"]!;
            Assert.Equal(
                $$$"""{"PublicIP":"{{{node.Address}}}","PublicIPv6":"{{{node.AddressIPv6}}}","BackendType":"vxlan","BackendData":{"VNI":1,"VtepMAC":"{{{mac}}}"},"BackendV6Data":{"VNI":1,"VtepMAC":"{{{mac6}}}"}}""",
                lease.ToJsonString());
        }
    }

    [Fact]
    public async Task Start_IPv6Device_MatchesUpstream()
    {
        LabNode node = Cluster.Nodes[0];
        JsonNode link = (await KernelView.LinkAsync(node, "flannel-v6.1"))!;
        JsonNode info = link["linkinfo"]!["info_data"]!;
        Assert.Equal(1430, (int)link["mtu"]!);
        Assert.Equal(1, (int)info["id"]!);
        Assert.Equal(8472, (int)info["port"]!);
        Assert.Equal(node.AddressIPv6, (string)info["local6"]!);
        Assert.False((bool)info["learning"]!);
        Assert.Equal((string)(await fixture.LeaseOfAsync(node))["BackendV6Data"]!["VtepMAC"]!, (string)link["address"]!);
        string addresses = await node.IpAsync("-6", "-o", "addr", "show", "dev", "flannel-v6.1", "scope", "global");
        Assert.Contains($"inet6 {fixture.Env[node].IPv6Subnet!.Value.IPAddress}/128", addresses, StringComparison.Ordinal);
        Assert.Equal("0", (await node.ExecAsync("sysctl", "-n", "net.ipv6.conf.flannel-v6/1.accept_ra")).Trim());

        // The kernel's /128 prefix route for that address is not mistaken for a stale peer route.
        await fixture.WaitForPeerRoutes6Async(TimeSpan.FromSeconds(10));
        Assert.Contains((fixture.Env[node].IPv6Subnet!.Value.IPAddress.ToString(), (string?)null, "flannel-v6.1", false), await KernelView.RoutesAsync(node, ipv6: true));
    }

    [Fact]
    public async Task Start_EachPeer_GetsIPv6NeighbourFdbAndOnlinkRoute()
    {
        LabNode node = Cluster.Nodes[0];
        foreach (LabNode peer in fixture.Env.Keys.Where(n => n != node))
        {
            string subnet = fixture.Env[peer].IPv6Subnet!.Value.ToString();
            string vtep = fixture.Env[peer].IPv6Subnet!.Value.IPAddress.ToString();
            string mac6 = (string)(await fixture.LeaseOfAsync(peer))["BackendV6Data"]!["VtepMAC"]!;
            Assert.True(await KernelView.EventuallyAsync(async () =>
                (await KernelView.RoutesAsync(node, ipv6: true)).Contains((subnet, vtep, "flannel-v6.1", true))
                && (await KernelView.NeighboursAsync(node, "flannel-v6.1")).Contains((vtep, mac6))
                && (await KernelView.FdbAsync(node, "flannel-v6.1")).Contains((mac6, peer.AddressIPv6)), TimeSpan.FromSeconds(10)),
                $"{node.Name} lacks the IPv6 entries for {peer.Name}: {await node.IpAsync("-6", "route")}");
        }
    }

    [Fact]
    public async Task Pods_EveryPodPingsEveryPodOnOtherNodes_OverIPv4AndIPv6()
    {
        await fixture.WaitForPeerRoutesAsync(TimeSpan.FromSeconds(10));
        await fixture.WaitForPeerRoutes6Async(TimeSpan.FromSeconds(10));
        Assert.All(Cluster.Nodes.SelectMany(n => n.Pods), p => Assert.StartsWith("2001:db8:100:", p.AddressIPv6, StringComparison.Ordinal));
        Assert.Empty(await fixture.CrossNodePing6FailuresAsync());
        Assert.Empty(await fixture.CrossNodePingFailuresAsync());
    }

    [Fact]
    public async Task PeerLeaseAddedThenDeleted_ItsIPv6EntriesComeAndGo()
    {
        // A lease written by hand (as a node that then leaves would): above the nodes' range in both families.
        const string Key = "/coreos.com/network/subnets/198.18.250.0-24&2001:db8:100:fa::-64";
        const string Mac4 = "0e:aa:bb:cc:fa:04";
        const string Mac6 = "0e:aa:bb:cc:fa:06";
        const string Public6 = "2001:db8:0:1::fa";
        await Cluster.EtcdCtlAsync("put", Key,
            $$$"""{"PublicIP":"192.0.2.250","PublicIPv6":"{{{Public6}}}","BackendType":"vxlan","BackendData":{"VNI":1,"VtepMAC":"{{{Mac4}}}"},"BackendV6Data":{"VNI":1,"VtepMAC":"{{{Mac6}}}"}}""");
        try
        {
            foreach (LabNode node in fixture.Env.Keys)
            {
                Assert.True(await KernelView.EventuallyAsync(async () =>
                    (await KernelView.RoutesAsync(node, ipv6: true)).Contains(("2001:db8:100:fa::/64", "2001:db8:100:fa::", "flannel-v6.1", true))
                    && (await KernelView.NeighboursAsync(node, "flannel-v6.1")).Contains(("2001:db8:100:fa::", Mac6))
                    && (await KernelView.FdbAsync(node, "flannel-v6.1")).Contains((Mac6, Public6)), TimeSpan.FromSeconds(10)),
                    $"{node.Name} did not program the new IPv6 peer:\n{node.Flanneld?.ReadLog()}");
            }
        }
        finally
        {
            await Cluster.EtcdCtlAsync("del", Key);
        }

        foreach (LabNode node in fixture.Env.Keys)
        {
            Assert.True(await KernelView.EventuallyAsync(async () =>
                !(await KernelView.RoutesAsync(node, ipv6: true)).Any(r => r.Dst == "2001:db8:100:fa::/64")
                && !(await KernelView.RoutesAsync(node)).Any(r => r.Dst == "198.18.250.0/24")
                && !(await KernelView.NeighboursAsync(node, "flannel-v6.1")).Any(n => n.Address == "2001:db8:100:fa::")
                && !(await KernelView.FdbAsync(node, "flannel-v6.1")).Any(f => f.Dst == Public6), TimeSpan.FromSeconds(10)),
                $"{node.Name} still has entries of the deleted lease:\n{await node.IpAsync("-6", "route")}");
        }
    }

    [Fact]
    public async Task NodeLeaves_ItsIPv6EntriesDisappearFromEveryOtherNode()
    {
        // A fourth node (not in fixture.Env, which the other tests use) joins, stops, and its lease is deleted.
        await fixture.WaitForPeerRoutes6Async(TimeSpan.FromSeconds(10));
        LabNode leaving = await Cluster.AddNodeAsync();
        leaving.StartFlanneld();
        SubnetEnv env = await leaving.WaitForSubnetEnvAsync(TimeSpan.FromSeconds(30));
        string subnet6 = env.IPv6Subnet!.Value.ToString();
        string vtep6 = env.IPv6Subnet!.Value.IPAddress.ToString();
        LabNode observer = Cluster.Nodes[0];
        Assert.True(await KernelView.EventuallyAsync(async () => (await KernelView.RoutesAsync(observer, ipv6: true)).Any(r => r.Dst == subnet6), TimeSpan.FromSeconds(10)));

        await leaving.Flanneld!.StopAsync(TimeSpan.FromSeconds(10));
        await Cluster.EtcdCtlAsync("del", "/coreos.com/network/subnets/" + Flannel.Core.Leases.SubnetKey.Format(env.Subnet, env.IPv6Subnet));
        foreach (LabNode node in fixture.Env.Keys)
        {
            Assert.True(await KernelView.EventuallyAsync(async () =>
                !(await KernelView.RoutesAsync(node, ipv6: true)).Any(r => r.Dst == subnet6)
                && !(await KernelView.NeighboursAsync(node, "flannel-v6.1")).Any(n => n.Address == vtep6)
                && !(await KernelView.FdbAsync(node, "flannel-v6.1")).Any(f => f.Dst == leaving.AddressIPv6), TimeSpan.FromSeconds(10)),
                $"{node.Name} still has IPv6 entries of the node that left:\n{await node.IpAsync("-6", "route")}");
        }
    }

    [Fact]
    public async Task IPv6Device_DeletedWhileRunningOrStopped_ComesBackWithItsMac()
    {
        await fixture.WaitForPeerRoutes6Async(TimeSpan.FromSeconds(10));
        LabNode node = Cluster.Nodes[1];
        string mac6 = (string)(await KernelView.LinkAsync(node, "flannel-v6.1"))!["address"]!;

        // Running: the link watch recreates it with its MAC and reprograms the peers.
        await node.IpAsync("link", "del", "flannel-v6.1");
        Assert.True(await KernelView.EventuallyAsync(async () => await KernelView.LinkAsync(node, "flannel-v6.1") is not null, TimeSpan.FromSeconds(10)),
            "flannel-v6.1 was not recreated:\n" + node.Flanneld!.ReadLog());
        Assert.Equal(mac6, (string)(await KernelView.LinkAsync(node, "flannel-v6.1"))!["address"]!);

        // Stopped: the new device takes the MAC from BackendV6Data of the lease this node advertised last.
        Assert.Equal(0, await node.Flanneld!.StopAsync(TimeSpan.FromSeconds(10)));
        await node.IpAsync("link", "del", "flannel-v6.1");
        File.Delete(node.SubnetFile);
        node.StartFlanneld();
        SubnetEnv after = await node.WaitForSubnetEnvAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(fixture.Env[node].IPv6Subnet, after.IPv6Subnet);
        Assert.Equal(mac6, (string)(await KernelView.LinkAsync(node, "flannel-v6.1"))!["address"]!);
        await fixture.WaitForPeerRoutes6Async(TimeSpan.FromSeconds(10));
        Assert.Empty(await fixture.CrossNodePing6FailuresAsync());
    }
}

public sealed class DualStackHostGwClusterTests(DualStackHostGwFixture fixture) : IClassFixture<DualStackHostGwFixture>
{
    [Fact]
    public async Task Start_IPv6RoutesViaPeerPublicIPv6_AndPodsPingOverBothFamilies()
    {
        await fixture.WaitForPeerRoutesAsync(TimeSpan.FromSeconds(10));
        await fixture.WaitForPeerRoutes6Async(TimeSpan.FromSeconds(10));
        LabNode node = fixture.Cluster.Nodes[0];
        LabNode peer = fixture.Cluster.Nodes[1];
        Assert.Contains((fixture.Env[peer].IPv6Subnet!.Value.ToString(), peer.AddressIPv6, "eth0", false), await KernelView.RoutesAsync(node, ipv6: true));
        Assert.Null(await KernelView.LinkAsync(node, "flannel-v6.1"));
        Assert.Equal(
            $$"""{"PublicIP":"{{node.Address}}","PublicIPv6":"{{node.AddressIPv6}}","BackendType":"host-gw"}""",
            (await fixture.LeaseOfAsync(node)).ToJsonString());
        Assert.Empty(await fixture.CrossNodePing6FailuresAsync());
        Assert.Empty(await fixture.CrossNodePingFailuresAsync());
    }

    [Fact]
    public async Task IPv6RouteDeletedBySomeoneElse_IsPutBack()
    {
        await fixture.WaitForPeerRoutes6Async(TimeSpan.FromSeconds(10));
        LabNode node = fixture.Cluster.Nodes[1];
        string subnet = fixture.Env[fixture.Cluster.Nodes[0]].IPv6Subnet!.Value.ToString();
        await node.IpAsync("-6", "route", "del", subnet);
        Assert.True(await KernelView.EventuallyAsync(async () => (await KernelView.RoutesAsync(node, ipv6: true)).Any(r => r.Dst == subnet), TimeSpan.FromSeconds(15)),
            "the deleted IPv6 route did not come back within the 10 s check period");
    }
}

public sealed class IPv6OnlyVxlanFixture : DualStackFixture
{
    protected override string Backend => """{"Type":"vxlan"}""";

    protected override int Nodes => 2;

    protected override Task<LabCluster> CreateClusterAsync(LabOptions options) =>
        base.CreateClusterAsync(options with { NetConfig = """{"EnableIPv4":false,"Backend":{"Type":"vxlan"}}""" });
}

public sealed class IPv6OnlyVxlanClusterTests(IPv6OnlyVxlanFixture fixture) : IClassFixture<IPv6OnlyVxlanFixture>
{
    [Fact]
    public async Task Start_IPv6OnlyNodes_LeaseOnlyIPv6AndPodsPing6()
    {
        await fixture.WaitForPeerRoutes6Async(TimeSpan.FromSeconds(10));
        LabNode node = fixture.Cluster.Nodes[0];
        Assert.All(fixture.Env.Values, e => Assert.Null(e.Subnet));
        Assert.DoesNotContain("FLANNEL_NETWORK=", await File.ReadAllTextAsync(node.SubnetFile), StringComparison.Ordinal);
        Assert.Null(await KernelView.LinkAsync(node, "flannel.1"));
        IReadOnlyDictionary<string, string> leases = await fixture.Cluster.GetLeasesAsync();
        string key = "/coreos.com/network/subnets/0.0.0.0-0&" + fixture.Env[node].IPv6Subnet!.Value.ToString().Replace('/', '-');
        string mac6 = (string)(await KernelView.LinkAsync(node, "flannel-v6.1"))!["address"]!;
        Assert.Equal(
            $$$"""{"PublicIP":"0.0.0.0","PublicIPv6":"{{{node.AddressIPv6}}}","BackendType":"vxlan","BackendV6Data":{"VNI":1,"VtepMAC":"{{{mac6}}}"}}""",
            leases[key]);
        Assert.Empty(await fixture.CrossNodePing6FailuresAsync());
    }

    [Fact]
    public async Task IPv6Device_DeletedWhileStopped_ComesBackWithTheMacOfItsLease()
    {
        await fixture.WaitForPeerRoutes6Async(TimeSpan.FromSeconds(10));
        LabNode node = fixture.Cluster.Nodes[1];
        string mac6 = (string)(await KernelView.LinkAsync(node, "flannel-v6.1"))!["address"]!;

        // Every IPv6-only lease has PublicIP 0.0.0.0: the MAC must come from this node's lease, found by its PublicIPv6.
        Assert.Equal(0, await node.Flanneld!.StopAsync(TimeSpan.FromSeconds(10)));
        await node.IpAsync("link", "del", "flannel-v6.1");
        File.Delete(node.SubnetFile);
        node.StartFlanneld();
        SubnetEnv after = await node.WaitForSubnetEnvAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(fixture.Env[node].IPv6Subnet, after.IPv6Subnet);
        Assert.Equal(mac6, (string)(await KernelView.LinkAsync(node, "flannel-v6.1"))!["address"]!);
        await fixture.WaitForPeerRoutes6Async(TimeSpan.FromSeconds(10));
        Assert.Empty(await fixture.CrossNodePing6FailuresAsync());
    }
}

public sealed class DualStackVxlanDirectRoutingFixture : DualStackFixture
{
    protected override string Backend => """{"Type":"vxlan","DirectRouting":true}""";

    protected override int Nodes => 2;
}

public sealed class DualStackVxlanDirectRoutingTests(DualStackVxlanDirectRoutingFixture fixture) : IClassFixture<DualStackVxlanDirectRoutingFixture>
{
    [Fact]
    public async Task SameL2Peers_GetPlainIPv6RouteViaPublicIPv6_AndPodsPing6()
    {
        await fixture.WaitForPeerRoutes6Async(TimeSpan.FromSeconds(10));
        LabNode node = fixture.Cluster.Nodes[0];
        LabNode peer = fixture.Cluster.Nodes[1];
        Assert.Contains((fixture.Env[peer].IPv6Subnet!.Value.ToString(), peer.AddressIPv6, "eth0", false), await KernelView.RoutesAsync(node, ipv6: true));
        Assert.Empty(await KernelView.NeighboursAsync(node, "flannel-v6.1"));
        Assert.Empty(await fixture.CrossNodePing6FailuresAsync());
    }
}
