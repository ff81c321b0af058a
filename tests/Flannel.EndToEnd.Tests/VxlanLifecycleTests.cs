using System.Text.Json.Nodes;
using Flannel.Core.Config;
using Flannel.Lab;

namespace Flannel.EndToEnd.Tests;

/// <summary>Nodes that restart, leave, and lose their device: each test leaves the cluster whole for the next.</summary>
public sealed class VxlanLifecycleTests(VxlanLifecycleFixture fixture) : IClassFixture<VxlanLifecycleFixture>
{
    private LabCluster Cluster => fixture.Cluster;

    [Fact]
    public async Task Restart_KeepsSubnetMacAndAnEstablishedTcpConnection()
    {
        await fixture.WaitForPeerRoutesAsync(TimeSpan.FromSeconds(10));
        LabNode node = Cluster.Nodes[0];
        string macBefore = (string)(await KernelView.LinkAsync(node, "flannel.1"))!["address"]!;
        (var client, var server) = await PodSockets.ConnectAsync(node.Pods[0], Cluster.Nodes[1].Pods[0], 5002);
        using (client)
        using (server)
        {
            Assert.True(await PodSockets.TransferIntactAsync(client, server, 1 << 20));
            Assert.Equal(0, await node.Flanneld!.StopAsync(TimeSpan.FromSeconds(10)));
            File.Delete(node.SubnetFile);
            node.StartFlanneld();
            SubnetEnv after = await node.WaitForSubnetEnvAsync(TimeSpan.FromSeconds(30));
            Assert.Equal(fixture.Env[node].Subnet, after.Subnet);
            Assert.Equal(macBefore, (string)(await KernelView.LinkAsync(node, "flannel.1"))!["address"]!);
            Assert.True(await PodSockets.TransferIntactAsync(client, server, 1 << 20), "the connection did not survive the restart");
        }
    }

    [Fact]
    public async Task DeviceDeleted_IsRecreatedWithItsMacAndPeers()
    {
        await fixture.WaitForPeerRoutesAsync(TimeSpan.FromSeconds(10));
        LabNode node = Cluster.Nodes[1];
        string mac = (string)(await KernelView.LinkAsync(node, "flannel.1"))!["address"]!;
        await node.IpAsync("link", "del", "flannel.1");
        Assert.True(await KernelView.EventuallyAsync(async () => await KernelView.LinkAsync(node, "flannel.1") is not null, TimeSpan.FromSeconds(10)),
            "flannel.1 was not recreated:\n" + node.Flanneld!.ReadLog());
        Assert.Equal(mac, (string)(await KernelView.LinkAsync(node, "flannel.1"))!["address"]!);
        await fixture.WaitForPeerRoutesAsync(TimeSpan.FromSeconds(10));
        Assert.Empty(await fixture.CrossNodePingFailuresAsync());
    }

    [Fact]
    public async Task NodeLeaves_ItsEntriesDisappearFromEveryOtherNode()
    {
        await fixture.WaitForPeerRoutesAsync(TimeSpan.FromSeconds(10));
        LabNode leaving = await Cluster.AddNodeAsync();
        leaving.StartFlanneld();
        SubnetEnv env = await leaving.WaitForSubnetEnvAsync(TimeSpan.FromSeconds(30));
        string subnet = env.Subnet!.Value.ToString();
        string vtep = env.Subnet!.Value.IPAddress.ToString();
        LabNode observer = Cluster.Nodes[0];
        Assert.True(await KernelView.EventuallyAsync(async () => (await KernelView.RoutesAsync(observer)).Any(r => r.Dst == subnet), TimeSpan.FromSeconds(10)));

        await leaving.Flanneld!.StopAsync(TimeSpan.FromSeconds(10));
        await Cluster.EtcdCtlAsync("del", "/coreos.com/network/subnets/" + subnet.Replace('/', '-'));
        foreach (LabNode node in Cluster.Nodes.Where(n => n != leaving))
        {
            Assert.True(await KernelView.EventuallyAsync(async () =>
                !(await KernelView.RoutesAsync(node)).Any(r => r.Dst == subnet)
                && !(await KernelView.NeighboursAsync(node, "flannel.1")).Any(n => n.Address == vtep)
                && !(await KernelView.FdbAsync(node, "flannel.1")).Any(f => f.Dst == leaving.Address), TimeSpan.FromSeconds(10)),
                $"{node.Name} still has entries of the node that left");
        }
    }
}
