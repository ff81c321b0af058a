using Flannel.Core.Config;
using Flannel.Lab;

namespace Flannel.EndToEnd.Tests;

/// <summary>A lab cluster with flanneld on every node and pods attached, shared by the tests of one class.</summary>
public abstract class ClusterFixture : IAsyncLifetime
{
    private LabCluster? _cluster;

    public LabCluster Cluster => _cluster ?? throw new InvalidOperationException("cluster not started");

    public Dictionary<LabNode, SubnetEnv> Env { get; } = [];

    protected abstract string Backend { get; }

    protected virtual int Nodes => 3;

    protected virtual int PodsPerNode => 2;

    public async Task InitializeAsync()
    {
        _cluster = await CreateClusterAsync(new LabOptions
        {
            Nodes = Nodes,
            // Nodes lease below 198.18.200.0: tests write their own leases above, never over a node's.
            NetConfig = """{"Network":"198.18.0.0/16","SubnetLen":24,"SubnetMax":"198.18.199.0","Backend":""" + Backend + "}",
        });
        foreach (LabNode node in Cluster.Nodes)
        {
            StartFlanneld(node);
        }

        foreach (LabNode node in Cluster.Nodes)
        {
            Env[node] = await node.WaitForSubnetEnvAsync(TimeSpan.FromSeconds(30));
            for (int i = 0; i < PodsPerNode; i++)
            {
                await node.AddPodAsync();
            }
        }
    }

    public async Task DisposeAsync()
    {
        if (_cluster is not null)
        {
            await DisposeClusterAsync(_cluster);
        }
    }

    /// <summary>Builds the namespaces and the store (etcd here; the Kubernetes fixtures use the fake API server).</summary>
    protected virtual async Task<LabCluster> CreateClusterAsync(LabOptions options) => await LabCluster.CreateAsync(options);

    protected virtual void StartFlanneld(LabNode node) => node.StartFlanneld();

    protected virtual ValueTask DisposeClusterAsync(LabCluster cluster) => cluster.DisposeAsync();

    /// <summary>Every pod pings every pod on the other nodes; returns the pairs that failed.</summary>
    public async Task<List<string>> CrossNodePingFailuresAsync()
    {
        var failures = new List<string>();
        List<LabPod> pods = Cluster.Nodes.SelectMany(n => n.Pods).ToList();
        foreach (LabPod from in pods)
        {
            foreach (LabPod to in pods.Where(p => p.Node != from.Node))
            {
                if (!await from.PingAsync(to.Address))
                {
                    failures.Add($"{from.Name} ({from.Address}) -> {to.Name} ({to.Address})");
                }
            }
        }

        return failures;
    }

    /// <summary>Every pod pings every pod on the other nodes over IPv6; returns the pairs that failed.</summary>
    public async Task<List<string>> CrossNodePing6FailuresAsync()
    {
        var failures = new List<string>();
        List<LabPod> pods = Cluster.Nodes.SelectMany(n => n.Pods).ToList();
        foreach (LabPod from in pods)
        {
            foreach (LabPod to in pods.Where(p => p.Node != from.Node))
            {
                if (to.AddressIPv6 is null || !await from.PingAsync(to.AddressIPv6))
                {
                    failures.Add($"{from.Name} -> {to.Name} ({to.AddressIPv6 ?? "no IPv6 address"})");
                }
            }
        }

        return failures;
    }

    /// <summary>Waits until every node has an IPv6 route to every other node's IPv6 subnet.</summary>
    public async Task WaitForPeerRoutes6Async(TimeSpan timeout)
    {
        foreach (LabNode node in Env.Keys)
        {
            foreach (LabNode peer in Env.Keys.Where(p => p != node))
            {
                string subnet = Env[peer].IPv6Subnet!.Value.ToString();
                Assert.True(
                    await KernelView.EventuallyAsync(async () => (await KernelView.RoutesAsync(node, ipv6: true)).Any(r => r.Dst == subnet), timeout),
                    $"{node.Name} has no IPv6 route to {peer.Name}'s {subnet}:\n{await node.IpAsync("-6", "route")}\n{node.Flanneld?.ReadLog()}");
            }
        }
    }

    /// <summary>Waits until every peer route is installed on every node (the routes are the last entry per peer).</summary>
    public async Task WaitForPeerRoutesAsync(TimeSpan timeout)
    {
        foreach (LabNode node in Env.Keys)
        {
            foreach (LabNode peer in Env.Keys.Where(p => p != node))
            {
                string subnet = Env[peer].Subnet!.Value.ToString();
                Assert.True(
                    await KernelView.EventuallyAsync(async () => (await KernelView.RoutesAsync(node)).Any(r => r.Dst == subnet), timeout),
                    $"{node.Name} has no route to {peer.Name}'s {subnet}:\n{await node.IpAsync("route")}\n{node.Flanneld?.ReadLog()}");
            }
        }
    }
}

public sealed class VxlanFixture : ClusterFixture
{
    protected override string Backend => """{"Type":"vxlan"}""";
}

public sealed class VxlanDirectRoutingFixture : ClusterFixture
{
    protected override string Backend => """{"Type":"vxlan","DirectRouting":true}""";

    protected override int PodsPerNode => 1;
}

public sealed class HostGwFixture : ClusterFixture
{
    protected override string Backend => """{"Type":"host-gw"}""";

    protected override int PodsPerNode => 1;
}

public sealed class VxlanLifecycleFixture : ClusterFixture
{
    protected override string Backend => """{"Type":"vxlan"}""";

    protected override int PodsPerNode => 1;
}

public sealed class UdpFixture : ClusterFixture
{
    protected override string Backend => """{"Type":"udp"}""";

    protected override int PodsPerNode => 1;
}

public sealed class AllocFixture : ClusterFixture
{
    protected override string Backend => """{"Type":"alloc"}""";

    protected override int Nodes => 2;

    protected override int PodsPerNode => 0;
}
