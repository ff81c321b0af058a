using System.Text.Json.Nodes;
using Flannel.Core.Config;
using Flannel.Lab;
using Flannel.Lab.Kubernetes;

namespace Flannel.EndToEnd.Tests;

/// <summary>
/// A dual-stack cluster in Kubernetes mode: every Node has two podCIDRs (198.18.N.0/24 and 2001:db8:100:N::/64) and the
/// net-conf enables IPv6 in 2001:db8:100::/56; two nodes (a third joins and leaves in one test).
/// </summary>
public abstract class KubeDualStackFixture : KubeClusterFixture
{
    protected override int Nodes => 2;

    protected override Task<LabCluster> CreateClusterAsync(LabOptions options) => base.CreateClusterAsync(DualStackFixture.WithIPv6(options));
}

public sealed class KubeDualStackVxlanFixture : KubeDualStackFixture
{
    protected override string Backend => """{"Type":"vxlan"}""";
}

public sealed class KubeDualStackHostGwFixture : KubeDualStackFixture
{
    protected override string Backend => """{"Type":"host-gw"}""";
}

public sealed class KubeDualStackVxlanClusterTests(KubeDualStackVxlanFixture fixture) : IClassFixture<KubeDualStackVxlanFixture>
{
    private const string Prefix = "flannel.alpha.coreos.com/";

    [Fact]
    public async Task Start_AnnotationsAndSubnetEnv_CarryIPv6AsUpstream()
    {
        foreach (LabNode node in fixture.Env.Keys)
        {
            SubnetEnv env = fixture.Env[node];
            Assert.Equal(KubeLabCluster.PodCidrOf(node), env.Subnet?.ToString());
            Assert.Equal(KubeLabCluster.PodCidrIPv6Of(node), env.IPv6Subnet?.ToString());
            string text = await File.ReadAllTextAsync(node.SubnetFile);
            Assert.Contains($"FLANNEL_IPV6_NETWORK={DualStackFixture.IPv6Network}\n", text, StringComparison.Ordinal);
            Assert.Contains($"FLANNEL_IPV6_SUBNET={KubeLabCluster.PodCidrIPv6Of(node).Replace("::/64", "::1/64", StringComparison.Ordinal)}\n", text, StringComparison.Ordinal);

            string mac = (string)(await KernelView.LinkAsync(node, "flannel.1"))!["address"]!;
            string mac6 = (string)(await KernelView.LinkAsync(node, "flannel-v6.1"))!["address"]!;
            var expected = new SortedDictionary<string, string>(StringComparer.Ordinal)
            {
                [Prefix + "backend-data"] = $$"""{"VNI":1,"VtepMAC":"{{mac}}"}""",
                [Prefix + "backend-type"] = "vxlan",
                [Prefix + "backend-v6-data"] = $$"""{"VNI":1,"VtepMAC":"{{mac6}}"}""",
                [Prefix + "kube-subnet-manager"] = "true",
                [Prefix + "public-ip"] = node.Address,
                [Prefix + "public-ipv6"] = node.AddressIPv6,
            };
            SortedDictionary<string, string> actual = fixture.AnnotationsOf(node);
            Assert.True(expected.SequenceEqual(actual), $"{node.Name}: annotations {string.Join(", ", actual)}\n{node.Flanneld?.ReadLog()}");
        }
    }

    [Fact]
    public async Task Pods_PingAndPing6AcrossNodes_ViaPeerIPv6Entries()
    {
        await fixture.WaitForPeerRoutesAsync(TimeSpan.FromSeconds(10));
        await fixture.WaitForPeerRoutes6Async(TimeSpan.FromSeconds(10));
        LabNode node = fixture.Cluster.Nodes[0];
        LabNode peer = fixture.Cluster.Nodes[1];
        string vtep6 = fixture.Env[peer].IPv6Subnet!.Value.IPAddress.ToString();
        string mac6 = (string)(await KernelView.LinkAsync(peer, "flannel-v6.1"))!["address"]!;
        Assert.Contains((KubeLabCluster.PodCidrIPv6Of(peer), vtep6, "flannel-v6.1", true), await KernelView.RoutesAsync(node, ipv6: true));
        Assert.Contains((vtep6, mac6), await KernelView.NeighboursAsync(node, "flannel-v6.1"));
        Assert.Contains((mac6, peer.AddressIPv6), await KernelView.FdbAsync(node, "flannel-v6.1"));
        Assert.Empty(await fixture.CrossNodePing6FailuresAsync());
        Assert.Empty(await fixture.CrossNodePingFailuresAsync());
    }

    [Fact]
    public async Task NodeDeletedFromApi_ItsIPv6EntriesDisappearFromOtherNodes()
    {
        await fixture.WaitForPeerRoutes6Async(TimeSpan.FromSeconds(10));
        LabNode extra = await fixture.Kube.AddNodeAsync();
        fixture.Kube.StartFlanneld(extra);
        SubnetEnv env = await extra.WaitForSubnetEnvAsync(TimeSpan.FromSeconds(30));
        string subnet6 = KubeLabCluster.PodCidrIPv6Of(extra);
        Assert.Equal(subnet6, env.IPv6Subnet?.ToString());
        string vtep6 = env.IPv6Subnet!.Value.IPAddress.ToString();
        string mac6 = (string)(await KernelView.LinkAsync(extra, "flannel-v6.1"))!["address"]!;
        foreach (LabNode node in fixture.Env.Keys)
        {
            Assert.True(await KernelView.EventuallyAsync(async () =>
                (await KernelView.RoutesAsync(node, ipv6: true)).Contains((subnet6, vtep6, "flannel-v6.1", true))
                && (await KernelView.NeighboursAsync(node, "flannel-v6.1")).Contains((vtep6, mac6))
                && (await KernelView.FdbAsync(node, "flannel-v6.1")).Contains((mac6, extra.AddressIPv6)), TimeSpan.FromSeconds(10)),
                $"{node.Name} lacks the IPv6 entries for the added {extra.Name}:\n{await node.IpAsync("-6", "route")}\n{node.Flanneld?.ReadLog()}");
        }

        fixture.Kube.Api.DeleteNode(extra.Name);
        await extra.Flanneld!.StopAsync(TimeSpan.FromSeconds(5));
        foreach (LabNode node in fixture.Env.Keys)
        {
            Assert.True(await KernelView.EventuallyAsync(async () =>
                !(await KernelView.RoutesAsync(node, ipv6: true)).Any(r => r.Dst == subnet6)
                && !(await KernelView.RoutesAsync(node)).Any(r => r.Dst == KubeLabCluster.PodCidrOf(extra))
                && !(await KernelView.NeighboursAsync(node, "flannel-v6.1")).Any(n => n.Address == vtep6)
                && !(await KernelView.FdbAsync(node, "flannel-v6.1")).Any(f => f.Dst == extra.AddressIPv6), TimeSpan.FromSeconds(10)),
                $"{node.Name} still has IPv6 entries of the deleted {extra.Name}:\n{await node.IpAsync("-6", "route")}\n{node.Flanneld?.ReadLog()}");
        }
    }

    [Fact]
    public async Task PeerNodeAddedUpdatedDeleted_ItsIPv6EntriesFollowTheNodeObject()
    {
        // A Node written by hand (as a peer's flanneld would annotate it), above the lab nodes' podCIDRs.
        const string Name = "peer-fa";
        const string Subnet6 = "2001:db8:100:fa::/64";
        const string Vtep6 = "2001:db8:100:fa::";
        const string Public6 = "2001:db8:0:1::fa";
        const string Mac6 = "0e:aa:bb:cc:fa:06";
        const string NewMac6 = "0e:aa:bb:cc:fa:66";
        var annotations = new Dictionary<string, string>
        {
            [Prefix + "backend-data"] = """{"VNI":1,"VtepMAC":"0e:aa:bb:cc:fa:04"}""",
            [Prefix + "backend-type"] = "vxlan",
            [Prefix + "backend-v6-data"] = $$"""{"VNI":1,"VtepMAC":"{{Mac6}}"}""",
            [Prefix + "kube-subnet-manager"] = "true",
            [Prefix + "public-ip"] = "192.0.2.250",
            [Prefix + "public-ipv6"] = Public6,
        };
        fixture.Kube.Api.AddNode(FakeKubeApiServer.NodeObject(Name, "198.18.250.0/24", annotations, ["198.18.250.0/24", Subnet6]));
        try
        {
            await AssertEveryNodeAsync(
                async node => (await KernelView.RoutesAsync(node, ipv6: true)).Contains((Subnet6, Vtep6, "flannel-v6.1", true))
                    && (await KernelView.NeighboursAsync(node, "flannel-v6.1")).Contains((Vtep6, Mac6))
                    && (await KernelView.FdbAsync(node, "flannel-v6.1")).Contains((Mac6, Public6)),
                "did not program the added peer's IPv6 entries");

            // Only backend-v6-data changes (the peer's flannel-v6.1 was recreated with a new MAC).
            fixture.Kube.Api.UpdateNode(Name, n => n["metadata"]!["annotations"]![Prefix + "backend-v6-data"] = $$"""{"VNI":1,"VtepMAC":"{{NewMac6}}"}""");
            await AssertEveryNodeAsync(
                async node => (await KernelView.NeighboursAsync(node, "flannel-v6.1")).Contains((Vtep6, NewMac6))
                    && (await KernelView.FdbAsync(node, "flannel-v6.1")).Contains((NewMac6, Public6))
                    && !(await KernelView.FdbAsync(node, "flannel-v6.1")).Any(f => f.Mac == Mac6),
                "did not follow the peer's new IPv6 VTEP MAC");
        }
        finally
        {
            fixture.Kube.Api.DeleteNode(Name);
        }

        await AssertEveryNodeAsync(
            async node => !(await KernelView.RoutesAsync(node, ipv6: true)).Any(r => r.Dst == Subnet6)
                && !(await KernelView.NeighboursAsync(node, "flannel-v6.1")).Any(n => n.Address == Vtep6)
                && !(await KernelView.FdbAsync(node, "flannel-v6.1")).Any(f => f.Dst == Public6),
            "still has IPv6 entries of the deleted peer");
    }

    /// <summary>The admin's public-ipv6-overwrite (a NAT address) is what the node advertises and what peers tunnel to.</summary>
    [Fact]
    public Task PublicIPv6Overwrite_AdvertisedAndUsedByPeersAsTheTunnelEndpoint() =>
        ExtraNodeWithIPv6AnnotationAsync("public-ipv6-overwrite", "f0", checkLocal: true);

    /// <summary>node-public-ipv6 stands in for --public-ipv6: the node advertises it, peers tunnel to it.</summary>
    [Fact]
    public Task NodePublicIPv6_AdvertisedAndUsedByPeersAsTheTunnelEndpoint() =>
        ExtraNodeWithIPv6AnnotationAsync("node-public-ipv6", "f1", checkLocal: false);

    private async Task AssertEveryNodeAsync(Func<LabNode, Task<bool>> condition, string failure)
    {
        foreach (LabNode node in fixture.Env.Keys)
        {
            Assert.True(
                await KernelView.EventuallyAsync(() => condition(node), TimeSpan.FromSeconds(10)),
                $"{node.Name} {failure}:\n{await node.IpAsync("-6", "neigh", "show", "dev", "flannel-v6.1")}\n{await node.ExecAsync("bridge", "fdb", "show", "dev", "flannel-v6.1")}\n{node.Flanneld?.ReadLog()}");
        }
    }

    /// <summary>
    /// Adds a node that also has <paramref name="host"/> on its eth0, annotated with <paramref name="annotation"/>
    /// naming that address; checks its public-ipv6 annotation, the peers' FDB and a ping6 through the tunnel. The
    /// address is deprecated (preferred_lft 0), so flanneld would never pick it by itself: only the annotation can
    /// make it the advertised one. With <paramref name="checkLocal"/>, the tunnel's local address must stay the
    /// interface's own (an overwrite changes only what peers see; which local address a public IP selects is the
    /// interface resolver's business, tested there).
    /// </summary>
    private async Task ExtraNodeWithIPv6AnnotationAsync(string annotation, string host, bool checkLocal)
    {
        await fixture.WaitForPeerRoutes6Async(TimeSpan.FromSeconds(10));
        LabNode extra = await fixture.Kube.AddNodeAsync();
        string address = LabPaths.UnderlayPrefixIPv6 + host;
        await extra.IpAsync("-6", "addr", "add", address + "/64", "dev", "eth0", "nodad", "preferred_lft", "0");
        fixture.Kube.Api.UpdateNode(extra.Name, n => n["metadata"]!["annotations"] = new JsonObject { [Prefix + annotation] = address });
        fixture.Kube.StartFlanneld(extra);
        SubnetEnv env = await extra.WaitForSubnetEnvAsync(TimeSpan.FromSeconds(30));
        try
        {
            SortedDictionary<string, string> annotations = fixture.AnnotationsOf(extra);
            Assert.Equal(address, annotations[Prefix + "public-ipv6"]);
            Assert.Equal(extra.Address, annotations[Prefix + "public-ip"]);
            JsonNode link6 = (await KernelView.LinkAsync(extra, "flannel-v6.1"))!;
            if (checkLocal)
            {
                Assert.Equal(extra.AddressIPv6, (string?)link6["linkinfo"]!["info_data"]!["local6"]);
            }

            string vtep6 = env.IPv6Subnet!.Value.IPAddress.ToString();
            string mac6 = (string)link6["address"]!;
            LabNode observer = fixture.Cluster.Nodes[0];
            Assert.True(await KernelView.EventuallyAsync(async () =>
                (await KernelView.FdbAsync(observer, "flannel-v6.1")).Contains((mac6, address))
                && (await KernelView.NeighboursAsync(observer, "flannel-v6.1")).Contains((vtep6, mac6)), TimeSpan.FromSeconds(10)),
                $"{observer.Name} does not send {extra.Name}'s IPv6 traffic to {address}:\n{await observer.ExecAsync("bridge", "fdb", "show", "dev", "flannel-v6.1")}\n{observer.Flanneld?.ReadLog()}");

            LabPod pod = observer.Pods[0];
            Assert.True(await pod.PingAsync(vtep6), $"{pod.Name} cannot ping6 {extra.Name}'s {vtep6} through {address}");
        }
        finally
        {
            fixture.Kube.Api.DeleteNode(extra.Name);
            await extra.Flanneld!.StopAsync(TimeSpan.FromSeconds(5));
        }
    }
}

public sealed class KubeDualStackHostGwClusterTests(KubeDualStackHostGwFixture fixture) : IClassFixture<KubeDualStackHostGwFixture>
{
    private const string Prefix = "flannel.alpha.coreos.com/";

    [Fact]
    public async Task Start_AnnotationsAsUpstream_IPv6RoutesViaPeerPublicIPv6_AndPodsPingOverBothFamilies()
    {
        foreach (LabNode node in fixture.Env.Keys)
        {
            Assert.Equal(KubeLabCluster.PodCidrIPv6Of(node), fixture.Env[node].IPv6Subnet?.ToString());

            // host-gw has no backend data in either family: upstream marshals both nil RawMessages as null.
            var expected = new SortedDictionary<string, string>(StringComparer.Ordinal)
            {
                [Prefix + "backend-data"] = "null",
                [Prefix + "backend-type"] = "host-gw",
                [Prefix + "backend-v6-data"] = "null",
                [Prefix + "kube-subnet-manager"] = "true",
                [Prefix + "public-ip"] = node.Address,
                [Prefix + "public-ipv6"] = node.AddressIPv6,
            };
            SortedDictionary<string, string> actual = fixture.AnnotationsOf(node);
            Assert.True(expected.SequenceEqual(actual), $"{node.Name}: annotations {string.Join(", ", actual)}\n{node.Flanneld?.ReadLog()}");
        }

        await fixture.WaitForPeerRoutesAsync(TimeSpan.FromSeconds(10));
        await fixture.WaitForPeerRoutes6Async(TimeSpan.FromSeconds(10));
        LabNode first = fixture.Cluster.Nodes[0];
        LabNode peer = fixture.Cluster.Nodes[1];
        Assert.Contains((KubeLabCluster.PodCidrIPv6Of(peer), peer.AddressIPv6, "eth0", false), await KernelView.RoutesAsync(first, ipv6: true));
        Assert.Empty(await fixture.CrossNodePing6FailuresAsync());
        Assert.Empty(await fixture.CrossNodePingFailuresAsync());
    }
}

/// <summary>An IPv6-only cluster in Kubernetes mode: EnableIPv4 false, every Node has only its IPv6 podCIDR.</summary>
public sealed class KubeIPv6OnlyVxlanFixture : KubeClusterFixture
{
    protected override string Backend => """{"Type":"vxlan"}""";

    protected override int Nodes => 2;

    protected override bool IPv6OnlyPodCidrs => true;

    protected override Task<LabCluster> CreateClusterAsync(LabOptions options) =>
        base.CreateClusterAsync(DualStackFixture.WithIPv6(options with { NetConfig = """{"EnableIPv4":false,"Backend":{"Type":"vxlan"}}""" }));
}

public sealed class KubeIPv6OnlyVxlanClusterTests(KubeIPv6OnlyVxlanFixture fixture) : IClassFixture<KubeIPv6OnlyVxlanFixture>
{
    private const string Prefix = "flannel.alpha.coreos.com/";

    [Fact]
    public async Task Start_OnlyIPv6Annotated_AndPodsPing6()
    {
        foreach (LabNode node in fixture.Env.Keys)
        {
            Assert.Null(fixture.Env[node].Subnet);
            Assert.Equal(KubeLabCluster.PodCidrIPv6Of(node), fixture.Env[node].IPv6Subnet?.ToString());
            Assert.DoesNotContain("FLANNEL_NETWORK=", await File.ReadAllTextAsync(node.SubnetFile), StringComparison.Ordinal);
            Assert.Null(await KernelView.LinkAsync(node, "flannel.1"));

            // As upstream: vxlan without IPv4 backend data writes neither backend-data nor public-ip.
            string mac6 = (string)(await KernelView.LinkAsync(node, "flannel-v6.1"))!["address"]!;
            var expected = new SortedDictionary<string, string>(StringComparer.Ordinal)
            {
                [Prefix + "backend-type"] = "vxlan",
                [Prefix + "backend-v6-data"] = $$"""{"VNI":1,"VtepMAC":"{{mac6}}"}""",
                [Prefix + "kube-subnet-manager"] = "true",
                [Prefix + "public-ipv6"] = node.AddressIPv6,
            };
            SortedDictionary<string, string> actual = fixture.AnnotationsOf(node);
            Assert.True(expected.SequenceEqual(actual), $"{node.Name}: annotations {string.Join(", ", actual)}\n{node.Flanneld?.ReadLog()}");
        }

        await fixture.WaitForPeerRoutes6Async(TimeSpan.FromSeconds(10));
        Assert.Empty(await fixture.CrossNodePing6FailuresAsync());
    }

    [Fact]
    public async Task IPv6Device_DeletedWhileStopped_ComesBackWithTheAnnotatedMac()
    {
        await fixture.WaitForPeerRoutes6Async(TimeSpan.FromSeconds(10));
        LabNode node = fixture.Cluster.Nodes[1];
        string mac6 = (string)(await KernelView.LinkAsync(node, "flannel-v6.1"))!["address"]!;

        Assert.Equal(0, await node.Flanneld!.StopAsync(TimeSpan.FromSeconds(10)));
        await node.IpAsync("link", "del", "flannel-v6.1");
        File.Delete(node.SubnetFile);
        fixture.Kube.StartFlanneld(node);
        SubnetEnv after = await node.WaitForSubnetEnvAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(fixture.Env[node].IPv6Subnet, after.IPv6Subnet);
        Assert.Equal(mac6, (string)(await KernelView.LinkAsync(node, "flannel-v6.1"))!["address"]!);
        await fixture.WaitForPeerRoutes6Async(TimeSpan.FromSeconds(10));
        Assert.Empty(await fixture.CrossNodePing6FailuresAsync());
    }
}
