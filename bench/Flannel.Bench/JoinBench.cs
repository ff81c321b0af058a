using System.Diagnostics;
using System.Globalization;
using Flannel.Lab;
using Flannel.Linux.Netlink;

namespace Flannel.Bench;

/// <summary>
/// Issue 3: a node joins; how long until a running node has its route. Node 2's flanneld starts with no lease (its
/// lease is deleted between runs, so every run is a new node); times from node 2's process start and from its
/// subnet.env appearing to node 1's route to it. Polls: subnet.env every 1 ms, node 1's routes every 1 ms.
/// </summary>
internal static class JoinBench
{
    public static async Task RunAsync(int runs, Report report)
    {
        await using LabCluster cluster = await LabCluster.CreateAsync(new LabOptions { Nodes = 2 });
        LabNode first = cluster.Nodes[0], second = cluster.Nodes[1];
        first.StartFlanneld();
        await first.WaitForSubnetEnvAsync(TimeSpan.FromSeconds(30));
        using var kernel = new KernelCounter(first.Namespace);
        IpPrefix within = IpPrefix.Parse("198.18.0.0/16");
        var fromStart = new List<double>();
        var fromEnv = new List<double>();
        var envTimes = new List<double>();
        var fromLease = new List<double>();
        for (int run = 0; run < runs; run++)
        {
            File.Delete(second.SubnetFile);
            var clock = Stopwatch.StartNew();
            LabProcess daemon = second.StartFlanneld();
            try
            {
                Task<double> env = Task.Run(() =>
                {
                    while (!File.Exists(second.SubnetFile))
                    {
                        if (clock.Elapsed > TimeSpan.FromSeconds(30))
                        {
                            throw new TimeoutException("no subnet.env on node 2: " + daemon.ReadLog());
                        }

                        Thread.Sleep(1);
                    }

                    return clock.Elapsed.TotalMilliseconds;
                });
                if (!await kernel.WaitForAsync(within, 1, vxlan: false, TimeSpan.FromSeconds(30), pollMs: 1))
                {
                    throw new TimeoutException("node 1 has no route to node 2: " + first.Flanneld!.ReadLog());
                }

                double route = clock.Elapsed.TotalMilliseconds;
                DateTime routeSeen = DateTime.UtcNow;
                double envMs = await env;
                double afterLease = (routeSeen - LeaseAcquiredAt(daemon)).TotalMilliseconds;
                fromStart.Add(route);
                fromEnv.Add(route - envMs);
                fromLease.Add(afterLease);
                envTimes.Add(envMs);
                Stats.Log($"join run {run}: subnet.env {Stats.F(envMs)} ms, route on node 1 {Stats.F(route)} ms after start ({Stats.F(route - envMs)} after subnet.env, {Stats.F(afterLease)} after the lease was acquired)");
            }
            finally
            {
                await daemon.StopAsync(TimeSpan.FromSeconds(5));
            }

            // Node 2 leaves for good: its lease goes, node 1 drops the route; the next run is a new node.
            foreach ((string key, string value) in await cluster.GetLeasesAsync())
            {
                if (value.Contains("\"" + second.Address + "\"", StringComparison.Ordinal))
                {
                    await cluster.EtcdCtlAsync("del", key);
                }
            }

            if (!await kernel.WaitForAsync(within, 0, vxlan: false, TimeSpan.FromSeconds(30), exact: true))
            {
                throw new TimeoutException("node 1 kept the route to node 2");
            }
        }

        report.Row("new node's route on node 1, from its lease being written (its log's timestamp, ms resolution)", $"{Stats.Describe(fromLease)} ms", "upstream ~23 ms", "~23 ms", Stats.Median(fromLease) <= 23 ? "met" : "not met");
        report.Row("new node's route on node 1, from its subnet.env appearing", $"{Stats.Describe(fromEnv)} ms (negative: the route is there before subnet.env)", "", "", "");
        report.Row("new node's route on node 1, from its process start", $"{Stats.Describe(fromStart)} ms (its subnet.env at {Stats.F(Stats.Median(envTimes))} ms)", "", "", "");
    }

    /// <summary>When the daemon logged its last "Acquired lease" (its log lines start with an ISO UTC timestamp).</summary>
    private static DateTime LeaseAcquiredAt(LabProcess daemon)
    {
        string line = daemon.ReadLog().Split('\n').Last(l => l.Contains("Acquired lease", StringComparison.Ordinal));
        return DateTime.Parse(line[..line.IndexOf(' ', StringComparison.Ordinal)], CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal);
    }
}
