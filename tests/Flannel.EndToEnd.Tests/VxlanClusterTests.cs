using System.Text.Json.Nodes;
using Flannel.Core.Config;
using Flannel.Lab;

namespace Flannel.EndToEnd.Tests;

/// <summary>Three nodes running the built flanneld with the vxlan backend against a real etcd, in namespaces.</summary>
public sealed class VxlanClusterTests : IAsyncLifetime
{
    private LabCluster _cluster = null!;
    private readonly Dictionary<LabNode, SubnetEnv> _env = [];

    public async Task InitializeAsync()
    {
        _cluster = await LabCluster.CreateAsync(new LabOptions { Nodes = 3 });
        foreach (LabNode node in _cluster.Nodes)
        {
            node.StartFlanneld();
        }

        foreach (LabNode node in _cluster.Nodes)
        {
            _env[node] = await node.WaitForSubnetEnvAsync(TimeSpan.FromSeconds(30));
        }
    }

    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    private async Task<string> VtepMacOf(LabNode node)
    {
        IReadOnlyDictionary<string, string> leases = await _cluster.GetLeasesAsync();
        string key = "/coreos.com/network/subnets/" + _env[node].Subnet!.Value.ToString().Replace('/', '-');
        return (string)JsonNode.Parse(leases[key])!["BackendData"]!["VtepMAC"]!;
    }

    [Fact]
    public async Task Start_EveryNode_HasDistinctSubnetAndUpstreamLease()
    {
        Assert.Equal(3, _env.Values.Select(e => e.Subnet).Distinct().Count());
        Assert.All(_env.Values, e => Assert.Equal(1450, e.Mtu));
        IReadOnlyDictionary<string, string> leases = await _cluster.GetLeasesAsync();
        Assert.Equal(3, leases.Count);
        foreach (LabNode node in _cluster.Nodes)
        {
            string key = "/coreos.com/network/subnets/" + _env[node].Subnet!.Value.ToString().Replace('/', '-');
            string mac = await VtepMacOf(node);
            Assert.Equal($$$"""{"PublicIP":"{{{node.Address}}}","PublicIPv6":null,"BackendType":"vxlan","BackendData":{"VNI":1,"VtepMAC":"{{{mac}}}"}}""", leases[key]);
        }
    }

    [Fact]
    public async Task Start_Device_MatchesUpstream()
    {
        LabNode node = _cluster.Nodes[0];
        JsonNode link = (await KernelView.LinkAsync(node, "flannel.1"))!;
        JsonNode info = link["linkinfo"]!["info_data"]!;
        Assert.Equal(1450, (int)link["mtu"]!);
        Assert.Equal(1, (int)info["id"]!);
        Assert.Equal(8472, (int)info["port"]!);
        Assert.Equal(node.Address, (string)info["local"]!);
        Assert.False((bool)info["learning"]!);
        Assert.Equal(await VtepMacOf(node), (string)link["address"]!);
        string addresses = await node.IpAsync("-4", "-o", "addr", "show", "dev", "flannel.1");
        Assert.Contains($"inet {_env[node].Subnet!.Value.IPAddress}/32", addresses, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Start_EachPeer_GetsNeighbourFdbAndOnlinkRoute()
    {
        LabNode node = _cluster.Nodes[0];
        foreach (LabNode peer in _cluster.Nodes.Skip(1))
        {
            string subnet = _env[peer].Subnet!.Value.ToString();
            string vtep = _env[peer].Subnet!.Value.IPAddress.ToString();
            string mac = await VtepMacOf(peer);
            Assert.True(await KernelView.EventuallyAsync(async () =>
                (await KernelView.RoutesAsync(node)).Contains((subnet, vtep, "flannel.1", true))
                && (await KernelView.NeighboursAsync(node, "flannel.1")).Contains((vtep, mac))
                && (await KernelView.FdbAsync(node, "flannel.1")).Contains((mac, peer.Address)), TimeSpan.FromSeconds(10)),
                $"{node.Name} lacks the entries for {peer.Name}: {await node.IpAsync("route")}");
        }
    }
}
