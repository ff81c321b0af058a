using System.Text.Json.Nodes;
using Flannel.Lab;

namespace Flannel.EndToEnd.Tests;

/// <summary>Three nodes running the built flanneld with the vxlan backend against a real etcd, in namespaces.</summary>
public sealed class VxlanClusterTests(VxlanFixture fixture) : IClassFixture<VxlanFixture>
{
    private LabCluster Cluster => fixture.Cluster;

    private async Task<string> VtepMacOf(LabNode node)
    {
        IReadOnlyDictionary<string, string> leases = await Cluster.GetLeasesAsync();
        return (string)JsonNode.Parse(leases[LeaseKey(node)])!["BackendData"]!["VtepMAC"]!;
    }

    private string LeaseKey(LabNode node) => "/coreos.com/network/subnets/" + fixture.Env[node].Subnet!.Value.ToString().Replace('/', '-');

    [Fact]
    public async Task Start_EveryNode_HasDistinctSubnetAndUpstreamLease()
    {
        Assert.Equal(3, fixture.Env.Values.Select(e => e.Subnet).Distinct().Count());
        Assert.All(fixture.Env.Values, e => Assert.Equal(1450, e.Mtu));
        IReadOnlyDictionary<string, string> leases = await Cluster.GetLeasesAsync();
        Assert.Equal(3, leases.Count);
        foreach (LabNode node in Cluster.Nodes)
        {
            string mac = await VtepMacOf(node);
            Assert.Equal($$$"""{"PublicIP":"{{{node.Address}}}","PublicIPv6":null,"BackendType":"vxlan","BackendData":{"VNI":1,"VtepMAC":"{{{mac}}}"}}""", leases[LeaseKey(node)]);
        }
    }

    [Fact]
    public async Task Start_Device_MatchesUpstream()
    {
        LabNode node = Cluster.Nodes[0];
        JsonNode link = (await KernelView.LinkAsync(node, "flannel.1"))!;
        JsonNode info = link["linkinfo"]!["info_data"]!;
        Assert.Equal(1450, (int)link["mtu"]!);
        Assert.Equal(1, (int)info["id"]!);
        Assert.Equal(8472, (int)info["port"]!);
        Assert.Equal(node.Address, (string)info["local"]!);
        Assert.False((bool)info["learning"]!);
        Assert.Equal(await VtepMacOf(node), (string)link["address"]!);
        string addresses = await node.IpAsync("-4", "-o", "addr", "show", "dev", "flannel.1");
        Assert.Contains($"inet {fixture.Env[node].Subnet!.Value.IPAddress}/32", addresses, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Start_EachPeer_GetsNeighbourFdbAndOnlinkRoute()
    {
        LabNode node = Cluster.Nodes[0];
        foreach (LabNode peer in Cluster.Nodes.Skip(1))
        {
            string subnet = fixture.Env[peer].Subnet!.Value.ToString();
            string vtep = fixture.Env[peer].Subnet!.Value.IPAddress.ToString();
            string mac = await VtepMacOf(peer);
            Assert.True(await KernelView.EventuallyAsync(async () =>
                (await KernelView.RoutesAsync(node)).Contains((subnet, vtep, "flannel.1", true))
                && (await KernelView.NeighboursAsync(node, "flannel.1")).Contains((vtep, mac))
                && (await KernelView.FdbAsync(node, "flannel.1")).Contains((mac, peer.Address)), TimeSpan.FromSeconds(10)),
                $"{node.Name} lacks the entries for {peer.Name}: {await node.IpAsync("route")}");
        }
    }

    [Fact]
    public async Task Pods_EveryPodPingsEveryPodOnOtherNodes()
    {
        await fixture.WaitForPeerRoutesAsync(TimeSpan.FromSeconds(10));
        Assert.Empty(await fixture.CrossNodePingFailuresAsync());
    }

    [Fact]
    public async Task Pods_TcpTransferCrossesNodesIntact()
    {
        await fixture.WaitForPeerRoutesAsync(TimeSpan.FromSeconds(10));
        (var client, var server) = await PodSockets.ConnectAsync(Cluster.Nodes[0].Pods[0], Cluster.Nodes[2].Pods[1], 5001);
        using (client)
        using (server)
        {
            Assert.True(await PodSockets.TransferIntactAsync(client, server, 8 << 20));
        }
    }
}

public sealed class VxlanDirectRoutingTests(VxlanDirectRoutingFixture fixture) : IClassFixture<VxlanDirectRoutingFixture>
{
    [Fact]
    public async Task SameL2Peers_GetPlainRouteViaPublicIp_AndPodsPing()
    {
        await fixture.WaitForPeerRoutesAsync(TimeSpan.FromSeconds(10));
        LabNode node = fixture.Cluster.Nodes[0];
        List<(string Dst, string? Gateway, string Dev, bool OnLink)> routes = await KernelView.RoutesAsync(node);
        foreach (LabNode peer in fixture.Cluster.Nodes.Skip(1))
        {
            Assert.Contains((fixture.Env[peer].Subnet!.Value.ToString(), peer.Address, "eth0", false), routes);
        }

        Assert.Empty(await KernelView.NeighboursAsync(node, "flannel.1"));
        Assert.Empty(await fixture.CrossNodePingFailuresAsync());
    }
}
