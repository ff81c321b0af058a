using Flannel.Lab;

namespace Flannel.EndToEnd.Tests;

public sealed class HostGwClusterTests(HostGwFixture fixture) : IClassFixture<HostGwFixture>
{
    [Fact]
    public async Task Start_RoutesViaPeerPublicIp_LeaseAndMtuAsUpstream()
    {
        await fixture.WaitForPeerRoutesAsync(TimeSpan.FromSeconds(10));
        LabNode node = fixture.Cluster.Nodes[0];
        List<(string Dst, string? Gateway, string Dev, bool OnLink)> routes = await KernelView.RoutesAsync(node);
        foreach (LabNode peer in fixture.Cluster.Nodes.Skip(1))
        {
            Assert.Contains((fixture.Env[peer].Subnet!.Value.ToString(), peer.Address, "eth0", false), routes);
        }

        Assert.Equal(1500, fixture.Env[node].Mtu);
        Assert.Null(await KernelView.LinkAsync(node, "flannel.1"));
        IReadOnlyDictionary<string, string> leases = await fixture.Cluster.GetLeasesAsync();
        Assert.Contains($$"""{"PublicIP":"{{node.Address}}","PublicIPv6":null,"BackendType":"host-gw"}""", leases.Values);
    }

    [Fact]
    public async Task Pods_EveryPodPingsEveryPodOnOtherNodes()
    {
        await fixture.WaitForPeerRoutesAsync(TimeSpan.FromSeconds(10));
        Assert.Empty(await fixture.CrossNodePingFailuresAsync());
    }

    [Fact]
    public async Task RouteDeletedBySomeoneElse_IsPutBack()
    {
        await fixture.WaitForPeerRoutesAsync(TimeSpan.FromSeconds(10));
        LabNode node = fixture.Cluster.Nodes[1];
        LabNode peer = fixture.Cluster.Nodes[2];
        string subnet = fixture.Env[peer].Subnet!.Value.ToString();
        await node.IpAsync("route", "del", subnet);
        Assert.True(await KernelView.EventuallyAsync(async () => (await KernelView.RoutesAsync(node)).Any(r => r.Dst == subnet), TimeSpan.FromSeconds(15)),
            "the deleted route did not come back within the 10 s check period");
    }
}
