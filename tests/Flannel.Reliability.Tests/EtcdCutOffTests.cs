using Flannel.Core.Config;
using Flannel.Lab;

namespace Flannel.Reliability.Tests;

/// <summary>
/// Case 1: a node cut off from etcd (tcp/2379 dropped, data path up) for longer than its lease TTL. Its key expires;
/// when it comes back it either takes the subnet back (nobody took it) or, when another node took it meanwhile,
/// stops using it: logs LEASE LOST and exits 3 for its supervisor.
/// </summary>
public sealed class EtcdCutOffTests
{
    private static readonly TimeSpan Ttl = TimeSpan.FromSeconds(4);

    private static async Task<(LabCluster Cluster, SubnetEnv Env)> StartAsync(int nodes)
    {
        LabCluster cluster = await LabCluster.CreateAsync(new LabOptions { Nodes = nodes, NetConfig = Lab.NetConfig("alloc") });
        LabNode n1 = cluster.Nodes[0];
        n1.StartFlanneld("--subnet-lease-ttl=4s");
        return (cluster, await n1.WaitForSubnetEnvAsync(TimeSpan.FromSeconds(30)));
    }

    private static async Task WaitForExpiryAsync(LabCluster cluster, string key) =>
        Assert.True(
            await KernelView.EventuallyAsync(async () => !(await cluster.GetLeasesAsync()).ContainsKey(key), Ttl * 4),
            $"{key} did not expire while its node was cut off");

    [Fact]
    public async Task CutOffLongerThanTtl_NobodyTookTheSubnet_SameSubnetBackAndDaemonKeepsRunning()
    {
        (LabCluster cluster, SubnetEnv env) = await StartAsync(1);
        await using (cluster)
        {
            LabNode n1 = cluster.Nodes[0];
            string key = Lab.KeyOf(env);
            await n1.CutOffFromEtcdAsync();
            await WaitForExpiryAsync(cluster, key);
            await Task.Delay(Ttl / 2);
            Assert.False(n1.Flanneld!.HasExited, "flanneld died while cut off:\n" + n1.Flanneld.ReadLog());
            await n1.ReconnectToEtcdAsync();

            Assert.True(
                await KernelView.EventuallyAsync(async () =>
                    (await cluster.GetLeasesAsync()).TryGetValue(key, out string? value) && Lab.PublicIpOf(value) == n1.Address,
                    TimeSpan.FromSeconds(30)),
                $"{key} was not taken back by {n1.Address}:\n{n1.Flanneld.ReadLog()}");

            // It must stay held: renewed past several TTLs, by the same daemon.
            await Task.Delay(Ttl * 2);
            Assert.False(n1.Flanneld.HasExited, "flanneld exited after reconnecting:\n" + n1.Flanneld.ReadLog());
            IReadOnlyDictionary<string, string> leases = await cluster.GetLeasesAsync();
            Assert.Equal(new[] { key }, leases.Keys);
            Assert.Equal(env.Subnet, SubnetEnvFile.TryRead(n1.SubnetFile)!.Subnet);
        }
    }

    [Fact]
    public async Task CutOffLongerThanTtl_AnotherNodeTookTheSubnet_LeaseLostExit3AndOneHolder()
    {
        (LabCluster cluster, SubnetEnv env) = await StartAsync(2);
        await using (cluster)
        {
            LabNode n1 = cluster.Nodes[0];
            LabNode n2 = cluster.Nodes[1];
            string key = Lab.KeyOf(env);
            await n1.CutOffFromEtcdAsync();
            await WaitForExpiryAsync(cluster, key);

            // n2 comes up with a subnet.env naming n1's subnet as its previous one: it asks for that subnet and gets it.
            File.Copy(n1.SubnetFile, n2.SubnetFile, overwrite: true);
            n2.StartFlanneld("--subnet-lease-ttl=4s");
            Assert.True(
                await KernelView.EventuallyAsync(async () =>
                    (await cluster.GetLeasesAsync()).TryGetValue(key, out string? value) && Lab.PublicIpOf(value) == n2.Address,
                    TimeSpan.FromSeconds(30)),
                $"{n2.Name} did not take {key}:\n{n2.Flanneld!.ReadLog()}");

            await n1.ReconnectToEtcdAsync();
            int? exit = await Lab.ExitCodeWithinAsync(n1.Flanneld!, TimeSpan.FromSeconds(30));
            string log = n1.Flanneld!.ReadLog();
            Assert.True(exit is not null, "flanneld on the cut-off node kept running on a subnet another node holds:\n" + log);
            Assert.Equal(3, exit);
            Assert.Contains("LEASE LOST", log, StringComparison.Ordinal);

            // The subnet has one holder, n2, and it keeps it.
            await Task.Delay(Ttl);
            Assert.False(n2.Flanneld!.HasExited, "the node that took the subnet exited:\n" + n2.Flanneld.ReadLog());
            IReadOnlyDictionary<string, string> leases = await cluster.GetLeasesAsync();
            Assert.Equal(n2.Address, Lab.PublicIpOf(leases[key]));
            Assert.Equal(leases.Count, leases.Keys.Distinct(StringComparer.Ordinal).Count());
            Assert.Single(leases.Values, v => Lab.PublicIpOf(v) == n2.Address);
        }
    }
}
