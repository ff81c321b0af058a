using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using Flannel.Lab;
using Xunit.Abstractions;

namespace Flannel.Reliability.Tests;

/// <summary>
/// Case 7: etcd as a 3-member cluster. The leader is killed, twice in a row (the first one back before the second
/// kill): renewals and watches carry on, no lease lost, recreated or duplicated. Then every member down for longer
/// than a watch timeout: pods keep pinging across nodes the whole time, the daemons reconnect (renew, watch) by
/// themselves when etcd returns, and nothing is reprogrammed: no netlink event touches flannel.1 or its routes,
/// neighbours and FDB entries over the whole run except for the canary leases the test writes.
/// </summary>
public sealed class EtcdClusterFailureTests(ITestOutputHelper output)
{
    private const int HealthPort = 9102;

    /// <summary>Canary leases: these subnets (nodes lease below 198.18.200.0), this MAC.</summary>
    private const string CanaryMac = "0a:58:00:00:e6:00";
    private static readonly string[] Canaries = ["198.18.230.0/24", "198.18.231.0/24", "198.18.239.0/24"];

    private static readonly TimeSpan Ttl = TimeSpan.FromSeconds(6);

    /// <summary>
    /// Longer than the daemon's longest watch timeout: a silent watch stream is trusted for the HTTP/2 keep-alive
    /// ping delay plus its timeout (30 s + 10 s); the request deadline is 10 s and the reconnect back-off tops at 5 s.
    /// </summary>
    private static readonly TimeSpan AllDown = TimeSpan.FromSeconds(45);

    [Fact]
    public async Task LeaderKilledTwice_ThenAllMembersDownLongerThanWatchTimeout_LeasesKeptPodsPingNothingReprogrammed()
    {
        var options = new LabOptions { Nodes = 2, EtcdMembers = 3, NetConfig = Lab.NetConfig("vxlan") };
        await using TwoNodeVxlan lab = await TwoNodeVxlan.StartAsync(options, "--subnet-lease-ttl=6s", "--healthz-ip=127.0.0.1", "--healthz-port=" + HealthPort.ToString(CultureInfo.InvariantCulture));
        LabCluster cluster = lab.Cluster;
        IReadOnlyDictionary<string, StoredLease> leases = await StoredLeasesAsync(cluster);
        Assert.Equal(2, leases.Count);
        Assert.Equal(2, leases.Values.Select(l => l.Owner).Distinct().Count());
        var entries = new Dictionary<LabNode, List<string>>();
        foreach (LabNode node in cluster.Nodes)
        {
            entries[node] = await TwoNodeVxlan.FlannelEntriesAsync(node);
        }

        var monitors = new List<(LabNode Node, LabProcess Process)>();
        try
        {
            foreach (LabNode node in cluster.Nodes)
            {
                monitors.Add((node, LabProcess.Start(node.Namespace, "ip", ["-o", "monitor", "link", "route", "neigh"], Path.Combine(node.WorkDir, "ip-monitor.log"))));
                monitors.Add((node, LabProcess.Start(node.Namespace, "bridge", ["monitor", "fdb"], Path.Combine(node.WorkDir, "bridge-monitor.log"))));
            }

            await Task.Delay(500);

            // The leader dies, twice: each time a new one is elected and renewals (every TTL/2) and watches go on through it.
            for (int kill = 0; kill < 2; kill++)
            {
                Dictionary<LabNode, DaemonCounts> renewals = await CountsAsync(cluster);
                LabEtcdMember leader = await cluster.EtcdLeaderAsync();
                await leader.KillAsync();
                await Task.Delay(Ttl * 2);
                AssertRunning(cluster, $"after leader {leader.Name} was killed");
                await AssertLeasesKeptAndRenewedAsync(cluster, leases, renewals, $"leader {leader.Name} killed");
                var watch = Stopwatch.StartNew();
                await AssertWatchAliveAsync(lab, Canaries[kill]);
                output.WriteLine($"leader {leader.Name} killed: leases, their etcd leases and revisions unchanged {Ttl * 2} later, renewed meanwhile; a new lease was programmed on both nodes in {watch.ElapsedMilliseconds} ms");
                leader.Start();
                Assert.True(await KernelView.EventuallyAsync(() => AllMembersHealthyAsync(cluster), TimeSpan.FromSeconds(30)), $"etcd {leader.Name} did not rejoin");
            }

            // Every member down for longer than a watch timeout: the data path must not notice.
            LabPod from = cluster.Nodes[0].Pods[0];
            LabPod to = cluster.Nodes[1].Pods[0];
            Assert.True(await from.PingAsync(to.Address));
            Dictionary<LabNode, DaemonCounts> beforeOutage = await CountsAsync(cluster);
            foreach (LabEtcdMember member in cluster.EtcdMembers)
            {
                await member.KillAsync();
            }

            int pings = 0;
            var lost = new List<int>();
            DateTime until = DateTime.UtcNow + AllDown;
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
            AssertRunning(cluster, "while etcd was down");

            foreach (LabEtcdMember member in cluster.EtcdMembers)
            {
                member.Start();
            }

            var back = Stopwatch.StartNew();
            await AssertWatchAliveAsync(lab, Canaries[2]);
            long reconnected = back.ElapsedMilliseconds;
            await Task.Delay(Ttl * 2);
            AssertRunning(cluster, "after etcd returned");
            await AssertLeasesKeptAndRenewedAsync(cluster, leases, beforeOutage, "all members down and back");
            Assert.True(await from.PingAsync(to.Address));
            output.WriteLine($"all members down {AllDown.TotalSeconds:F0} s: {pings - lost.Count} of {pings} pings answered; after the restart a new lease was programmed on both nodes in {reconnected} ms; leases, their etcd leases and revisions unchanged, renewed again");

            foreach ((LabNode node, DaemonCounts counts) in await CountsAsync(cluster))
            {
                output.WriteLine($"{node.Name}: {counts.Renewals} successful renewals; etcd requests {counts.Requests.Values.Sum()}: {string.Join(' ', counts.Requests.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => $"{kv.Key}={kv.Value}"))}");
            }

            // Nothing reprogrammed: once the canaries are gone, each node's flannel.1 state is what it was, and no
            // netlink event over the whole run touched flannel.1 except for the canaries.
            foreach (LabNode node in cluster.Nodes)
            {
                List<string> now = [];
                Assert.True(await KernelView.EventuallyAsync(async () => (now = await TwoNodeVxlan.FlannelEntriesAsync(node)).SequenceEqual(entries[node]), TimeSpan.FromSeconds(10)),
                    $"{node.Name}'s flannel.1 entries changed:\nbefore: {string.Join("; ", entries[node])}\nafter: {string.Join("; ", now)}");
            }

            await Task.Delay(500);
            foreach ((LabNode node, LabProcess monitor) in monitors)
            {
                await monitor.KillAsync();
                string[] events = monitor.ReadLog().Split('\n', StringSplitOptions.RemoveEmptyEntries);
                string[] flannel = events.Where(e => e.Contains("flannel.1", StringComparison.Ordinal)).ToArray();
                // The kernel's own routes (an IPv6 link-local address whose DAD finished late) are not programming.
                string[] needless = flannel.Where(e => !IsCanary(e) && !e.Contains("proto kernel", StringComparison.Ordinal)).ToArray();
                Assert.True(needless.Length == 0, $"{node.Name}: flannel.1 reprogrammed needlessly ({Path.GetFileName(monitor.LogPath)}):\n{string.Join('\n', needless)}");
                Assert.True(flannel.Length > 0, $"{node.Name}: {Path.GetFileName(monitor.LogPath)} saw not even the canaries:\n{string.Join('\n', events)}");
                output.WriteLine($"{node.Name} {Path.GetFileName(monitor.LogPath)}: {events.Length} events, {flannel.Length} on flannel.1: {flannel.Count(IsCanary)} for the canaries, {flannel.Length - flannel.Count(IsCanary)} the kernel's own, none else");
            }
        }
        finally
        {
            foreach ((_, LabProcess monitor) in monitors)
            {
                await monitor.DisposeAsync();
            }
        }
    }

    /// <summary>Whether a key or an event line is about a canary: its subnet's address (key or prefix) or its MAC.</summary>
    private static bool IsCanary(string text) =>
        text.Contains(CanaryMac, StringComparison.Ordinal) || Canaries.Any(c => text.Contains(c.Split('/')[0], StringComparison.Ordinal));

    private static void AssertRunning(LabCluster cluster, string when) =>
        Assert.All(cluster.Nodes, n => Assert.False(n.Flanneld!.HasExited, $"{n.Name} exited {when}:\n{n.Flanneld.ReadLog()}"));

    /// <summary>
    /// Same keys, same owners, same etcd lease IDs (never recreated) and same mod revisions (never rewritten): since
    /// the keys outlived their TTL, the etcd leases were kept alive. The daemons' counters show it was their renewals:
    /// successful ones, each with its keep-alive request to etcd.
    /// </summary>
    private static async Task AssertLeasesKeptAndRenewedAsync(LabCluster cluster, IReadOnlyDictionary<string, StoredLease> expected, Dictionary<LabNode, DaemonCounts> before, string when)
    {
        IReadOnlyDictionary<string, StoredLease> now = await StoredLeasesAsync(cluster);
        Assert.True(expected.Count == now.Count && expected.All(kv => now.TryGetValue(kv.Key, out StoredLease? l) && l == kv.Value),
            $"leases changed ({when}):\nbefore: {string.Join("; ", expected.Values)}\nafter: {string.Join("; ", now.Values)}\n{string.Join('\n', cluster.Nodes.Select(n => $"{n.Name}'s log, last lines:\n{LastLines(n.Flanneld!.ReadLog(), 40)}"))}");
        Dictionary<LabNode, DaemonCounts> after = await CountsAsync(cluster);
        Assert.All(cluster.Nodes, n =>
        {
            long renewed = after[n].Renewals - before[n].Renewals;
            long keepAlives = after[n].Requests.GetValueOrDefault("lease_keepalive") - before[n].Requests.GetValueOrDefault("lease_keepalive");
            Assert.True(renewed > 0 && keepAlives >= renewed, $"{n.Name} ({when}): {renewed} successful renewals, {keepAlives} keep-alive requests\n{n.Flanneld!.ReadLog()}");
        });
    }

    private static string LastLines(string text, int count) =>
        string.Join('\n', text.Split('\n', StringSplitOptions.RemoveEmptyEntries).TakeLast(count));

    private static async Task<Dictionary<LabNode, DaemonCounts>> CountsAsync(LabCluster cluster)
    {
        var counts = new Dictionary<LabNode, DaemonCounts>();
        foreach (LabNode node in cluster.Nodes)
        {
            string text = await Lab.MetricsAsync(node, HealthPort);
            counts[node] = new DaemonCounts(
                Lab.CounterByLabel(text, "flannel_lease_renewals_total", "result").GetValueOrDefault("success"),
                Lab.CounterByLabel(text, "flannel_store_requests_total", "operation"));
        }

        return counts;
    }

    private static async Task<bool> AllMembersHealthyAsync(LabCluster cluster)
    {
        try
        {
            await cluster.EtcdCtlAsync("endpoint", "health");
            return true;
        }
        catch (InvalidOperationException)
        {
            return false;
        }
    }

    /// <summary>Every node lease key (canaries left out) with its owner, etcd lease ID and revisions.</summary>
    private static async Task<IReadOnlyDictionary<string, StoredLease>> StoredLeasesAsync(LabCluster cluster)
    {
        var leases = new SortedDictionary<string, StoredLease>(StringComparer.Ordinal);
        JsonNode? root = JsonNode.Parse(await cluster.EtcdCtlAsync("get", "--prefix", Lab.SubnetsPrefix, "-w", "json"));
        foreach (JsonNode? kv in root?["kvs"] as JsonArray ?? [])
        {
            string key = System.Text.Encoding.UTF8.GetString(Convert.FromBase64String((string)kv!["key"]!));
            string value = System.Text.Encoding.UTF8.GetString(Convert.FromBase64String((string)kv["value"]!));
            if (!IsCanary(key))
            {
                leases[key] = new StoredLease(key, Lab.PublicIpOf(value), (long?)kv["lease"] ?? 0, (long)kv["create_revision"]!, (long)kv["mod_revision"]!);
            }
        }

        return leases;
    }

    private static async Task AssertWatchAliveAsync(TwoNodeVxlan lab, string subnet)
    {
        string key = Lab.SubnetsPrefix + subnet.Replace('/', '-');
        await lab.Cluster.EtcdCtlAsync("put", key, $$$"""{"PublicIP":"198.19.230.1","PublicIPv6":null,"BackendType":"vxlan","BackendData":{"VNI":1,"VtepMAC":"{{{CanaryMac}}}"}}""");
        foreach (LabNode node in lab.Cluster.Nodes)
        {
            Assert.True(await KernelView.EventuallyAsync(async () => (await KernelView.RoutesAsync(node)).Any(r => r.Dst == subnet), TimeSpan.FromSeconds(30)),
                $"{node.Name}'s watch did not deliver {key}:\n{node.Flanneld!.ReadLog()}");
        }

        await lab.Cluster.EtcdCtlAsync("del", key);
    }

    /// <summary>A daemon's successful renewals and etcd requests by operation, from its /metrics.</summary>
    private sealed record DaemonCounts(long Renewals, Dictionary<string, long> Requests);

    private sealed record StoredLease(string Key, string? Owner, long EtcdLease, long CreateRevision, long ModRevision);
}
