using Flannel.Core.Config;
using Flannel.Lab;

namespace Flannel.Reliability.Tests;

/// <summary>Two vxlan nodes running flanneld with one pod each, ready once each node routes to the other.</summary>
internal sealed class TwoNodeVxlan : IAsyncDisposable
{
    private TwoNodeVxlan(LabCluster cluster) => Cluster = cluster;

    public LabCluster Cluster { get; }

    public Dictionary<LabNode, SubnetEnv> Env { get; } = [];

    public static async Task<TwoNodeVxlan> StartAsync(LabOptions? options = null, params string[] flanneldArgs)
    {
        LabCluster cluster = await LabCluster.CreateAsync(options ?? new LabOptions { Nodes = 2, NetConfig = Lab.NetConfig("vxlan") });
        var lab = new TwoNodeVxlan(cluster);
        try
        {
            foreach (LabNode node in cluster.Nodes)
            {
                node.StartFlanneld(flanneldArgs);
            }

            foreach (LabNode node in cluster.Nodes)
            {
                lab.Env[node] = await node.WaitForSubnetEnvAsync(TimeSpan.FromSeconds(30));
                await node.AddPodAsync();
            }

            foreach (LabNode node in cluster.Nodes)
            {
                foreach (LabNode peer in cluster.Nodes.Where(p => p != node))
                {
                    string subnet = lab.Env[peer].Subnet!.Value.ToString();
                    Assert.True(await KernelView.EventuallyAsync(async () => (await KernelView.RoutesAsync(node)).Any(r => r.Dst == subnet), TimeSpan.FromSeconds(15)),
                        $"{node.Name} has no route to {subnet}:\n{node.Flanneld!.ReadLog()}");
                }
            }

            return lab;
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
    }

    /// <summary>Every pod pings every pod on the other nodes, retrying for a while; returns the pairs that never answered.</summary>
    public async Task<List<string>> PingFailuresAsync(TimeSpan within)
    {
        var failures = new List<string>();
        List<LabPod> pods = Cluster.Nodes.SelectMany(n => n.Pods).ToList();
        foreach (LabPod from in pods)
        {
            foreach (LabPod to in pods.Where(p => p.Node != from.Node))
            {
                if (!await KernelView.EventuallyAsync(() => from.PingAsync(to.Address, 1, 1), within))
                {
                    failures.Add($"{from.Name} ({from.Address}) -> {to.Name} ({to.Address})");
                }
            }
        }

        return failures;
    }

    /// <summary>The node's flannel.1 state as comparable lines: routes, permanent neighbours, FDB entries.</summary>
    public static async Task<List<string>> FlannelEntriesAsync(LabNode node)
    {
        var lines = new List<string>();
        lines.AddRange((await KernelView.RoutesAsync(node)).Where(r => r.Dev == "flannel.1").Select(r => $"route {r.Dst} via {r.Gateway} onlink={r.OnLink}"));
        lines.AddRange((await KernelView.NeighboursAsync(node, "flannel.1")).Select(n => $"neigh {n.Address} {n.Mac}"));
        lines.AddRange((await KernelView.FdbAsync(node, "flannel.1")).Select(f => $"fdb {f.Mac} {f.Dst}"));
        lines.Sort(StringComparer.Ordinal);
        return lines;
    }

    public ValueTask DisposeAsync() => Cluster.DisposeAsync();
}
