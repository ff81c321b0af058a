using System.Diagnostics;
using Flannel.Lab;
using Xunit.Abstractions;

namespace Flannel.Reliability.Tests;

/// <summary>
/// Case 7: etcd as a 3-member cluster. The leader is killed: renewals and watches carry on, no lease lost or
/// duplicated. Every member down for longer than a lease TTL: pods keep pinging across nodes the whole time, and the
/// daemons reconnect (renew, watch) when etcd returns.
/// </summary>
public sealed class EtcdClusterFailureTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Ttl = TimeSpan.FromSeconds(6);

    private static async Task<IReadOnlyDictionary<string, string?>> OwnersAsync(LabCluster cluster) =>
        (await cluster.GetLeasesAsync()).ToDictionary(kv => kv.Key, kv => Lab.PublicIpOf(kv.Value), StringComparer.Ordinal);

    private static async Task AssertWatchAliveAsync(TwoNodeVxlan lab, string subnet)
    {
        string key = Lab.SubnetsPrefix + subnet.Replace('/', '-');
        await lab.Cluster.EtcdCtlAsync("put", key, """{"PublicIP":"198.19.230.1","PublicIPv6":null,"BackendType":"vxlan","BackendData":{"VNI":1,"VtepMAC":"0a:58:00:00:e6:00"}}""");
        foreach (LabNode node in lab.Cluster.Nodes)
        {
            Assert.True(await KernelView.EventuallyAsync(async () => (await KernelView.RoutesAsync(node)).Any(r => r.Dst == subnet), TimeSpan.FromSeconds(30)),
                $"{node.Name}'s watch did not deliver {key}:\n{node.Flanneld!.ReadLog()}");
        }

        await lab.Cluster.EtcdCtlAsync("del", key);
    }

    [Fact]
    public async Task LeaderKilled_ThenAllMembersDown_LeasesKeptPodsPingDaemonsReconnect()
    {
        var options = new LabOptions { Nodes = 2, EtcdMembers = 3, NetConfig = Lab.NetConfig("vxlan") };
        await using TwoNodeVxlan lab = await TwoNodeVxlan.StartAsync(options, "--subnet-lease-ttl=6s");
        LabCluster cluster = lab.Cluster;
        IReadOnlyDictionary<string, string?> owners = await OwnersAsync(cluster);
        Assert.Equal(2, owners.Count);

        // The leader dies: a new one is elected; renewals (every TTL/2) and watches go on through it.
        LabEtcdMember leader = await cluster.EtcdLeaderAsync();
        await leader.KillAsync();
        await Task.Delay(Ttl * 1.5);
        Assert.All(cluster.Nodes, n => Assert.False(n.Flanneld!.HasExited, $"{n.Name} exited:\n{n.Flanneld.ReadLog()}"));
        Assert.Equal(owners, await OwnersAsync(cluster));
        var afterKill = Stopwatch.StartNew();
        await AssertWatchAliveAsync(lab, "198.18.230.0/24");
        output.WriteLine($"leader {leader.Name} killed: leases unchanged after {Ttl * 1.5}; a new lease was programmed on both nodes in {afterKill.ElapsedMilliseconds} ms");
        leader.Start();

        // Every member down for longer than a lease TTL: the data path must not notice.
        LabPod from = cluster.Nodes[0].Pods[0];
        LabPod to = cluster.Nodes[1].Pods[0];
        Assert.True(await from.PingAsync(to.Address));
        foreach (LabEtcdMember member in cluster.EtcdMembers)
        {
            await member.KillAsync();
        }

        int pings = 0;
        var lost = new List<int>();
        DateTime until = DateTime.UtcNow + Ttl * 2;
        while (DateTime.UtcNow < until)
        {
            pings++;
            if (!await from.PingAsync(to.Address, 1, 1))
            {
                lost.Add(pings);
            }

            await Task.Delay(250);
        }

        Assert.True(lost.Count == 0, $"{lost.Count} of {pings} pings lost while etcd was down (at {string.Join(',', lost)})");
        Assert.All(cluster.Nodes, n => Assert.False(n.Flanneld!.HasExited, $"{n.Name} exited while etcd was down:\n{n.Flanneld.ReadLog()}"));

        foreach (LabEtcdMember member in cluster.EtcdMembers)
        {
            member.Start();
        }

        var back = Stopwatch.StartNew();
        await AssertWatchAliveAsync(lab, "198.18.231.0/24");
        output.WriteLine($"all members down: {pings - lost.Count} of {pings} pings answered; after restart a new lease was programmed on both nodes in {back.ElapsedMilliseconds} ms");
        await Task.Delay(Ttl * 1.5);
        Assert.All(cluster.Nodes, n => Assert.False(n.Flanneld!.HasExited, $"{n.Name} exited after etcd returned:\n{n.Flanneld.ReadLog()}"));
        Assert.Equal(owners, await OwnersAsync(cluster));
        Assert.True(await from.PingAsync(to.Address));
    }
}
