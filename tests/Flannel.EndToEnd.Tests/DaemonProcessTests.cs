using Flannel.Lab;

namespace Flannel.EndToEnd.Tests;

/// <summary>The built flanneld as a process: it keeps running, stops cleanly on SIGTERM, and shrugs off garbage in the store.</summary>
public sealed class DaemonProcessTests(AllocFixture fixture) : IClassFixture<AllocFixture>
{
    [Fact]
    public async Task Sigterm_ExitsZero_LeaseStaysInEtcd_RestartGetsSameSubnet()
    {
        LabNode node = fixture.Cluster.Nodes[1];
        await Task.Delay(500);
        Assert.False(node.Flanneld!.HasExited, "flanneld exited on its own:\n" + node.Flanneld.ReadLog());
        string key = "/coreos.com/network/subnets/" + fixture.Env[node].Subnet!.Value.ToString().Replace('/', '-');
        Assert.Equal(0, await node.Flanneld.StopAsync(TimeSpan.FromSeconds(10)));
        Assert.Contains(key, (await fixture.Cluster.GetLeasesAsync()).Keys);

        node.StartFlanneld();
        File.Delete(node.SubnetFile);
        Assert.Equal(fixture.Env[node].Subnet, (await node.WaitForSubnetEnvAsync(TimeSpan.FromSeconds(30))).Subnet);
    }

    [Fact]
    public async Task GarbageWrittenIntoTheStore_SkippedWithWarningNamingTheKey_DaemonKeepsRunning()
    {
        LabNode node = fixture.Cluster.Nodes[0];
        await fixture.Cluster.EtcdCtlAsync("put", "/coreos.com/network/subnets/not-a-subnet", "{}");
        await fixture.Cluster.EtcdCtlAsync("put", "/coreos.com/network/subnets/198.18.200.0-24", "\u0001\u0002garbage");
        await fixture.Cluster.EtcdCtlAsync("put", "/coreos.com/network/subnets/198.18.201.0-24", """{"PublicIP":"999.1.1.1"}""");
        Assert.True(await KernelView.EventuallyAsync(() => Task.FromResult(
            node.Flanneld!.ReadLog().Contains("198.18.201.0-24", StringComparison.Ordinal)
            && node.Flanneld.ReadLog().Contains("not-a-subnet", StringComparison.Ordinal)), TimeSpan.FromSeconds(10)),
            "no warning naming the bad keys:\n" + node.Flanneld!.ReadLog());
        await Task.Delay(300);
        Assert.False(node.Flanneld.HasExited);
        Assert.Contains("/coreos.com/network/subnets/198.18.200.0-24", node.Flanneld.ReadLog(), StringComparison.Ordinal);
        await fixture.Cluster.EtcdCtlAsync("del", "--prefix", "/coreos.com/network/subnets/198.18.20");
        await fixture.Cluster.EtcdCtlAsync("del", "/coreos.com/network/subnets/not-a-subnet");
    }

    [Fact]
    public async Task OwnLeaseDeleted_DaemonTakesTheSameSubnetBack()
    {
        LabNode node = fixture.Cluster.Nodes[0];
        string key = "/coreos.com/network/subnets/" + fixture.Env[node].Subnet!.Value.ToString().Replace('/', '-');
        Assert.Contains(key, (await fixture.Cluster.GetLeasesAsync()).Keys);
        await fixture.Cluster.EtcdCtlAsync("del", key);
        Assert.True(await KernelView.EventuallyAsync(async () =>
            (await fixture.Cluster.GetLeasesAsync()).TryGetValue(key, out string? value) && value.Contains(node.Address, StringComparison.Ordinal),
            TimeSpan.FromSeconds(10)), "the deleted lease was not taken back:\n" + node.Flanneld!.ReadLog());
        Assert.False(node.Flanneld!.HasExited);
    }

    [Fact]
    public async Task IpBlackholeRoute_AddsBlackholeForOwnSubnet_AndPutsItBack()
    {
        LabNode node = await fixture.Cluster.AddNodeAsync();
        node.StartFlanneld("--ip-blackhole-route", "--iptables-resync=1");
        string subnet = (await node.WaitForSubnetEnvAsync(TimeSpan.FromSeconds(30))).Subnet!.Value.ToString();
        Assert.True(await KernelView.EventuallyAsync(async () => (await node.IpAsync("route", "show", "type", "blackhole")).Contains(subnet, StringComparison.Ordinal), TimeSpan.FromSeconds(5)),
            "no blackhole route:\n" + await node.IpAsync("route") + node.Flanneld!.ReadLog());
        await node.IpAsync("route", "del", "blackhole", subnet);
        Assert.True(await KernelView.EventuallyAsync(async () => (await node.IpAsync("route", "show", "type", "blackhole")).Contains(subnet, StringComparison.Ordinal), TimeSpan.FromSeconds(5)),
            "the blackhole route did not come back within the resync period");
    }
}
