using System.Diagnostics;
using Flannel.Lab;

namespace Flannel.Bench;

/// <summary>
/// Issue 2: flanneld process start -> subnet.env written, peak and steady RSS; beside a Go etcd client process
/// (etcdctl get: start + one round trip) and an empty process (/bin/true), all spawned the same way (ip netns exec).
/// </summary>
internal static class StartupBench
{
    public static async Task RunAsync(string backend, int runs, Report report)
    {
        string netConfig = backend == "alloc"
            ? """{"Network":"198.18.0.0/16","SubnetLen":24,"Backend":{"Type":"alloc"}}"""
            : """{"Network":"198.18.0.0/16","SubnetLen":24,"Backend":{"Type":"vxlan"}}""";
        await using LabCluster cluster = await LabCluster.CreateAsync(new LabOptions { Nodes = 1, NetConfig = netConfig });
        LabNode node = cluster.Nodes[0];
        var startup = new List<double>();
        var peak = new List<double>();
        var steady = new List<double>();
        var etcdctl = new List<double>();
        var trueRuns = new List<double>();
        double first = 0;
        for (int run = 0; run <= runs; run++)
        {
            File.Delete(node.SubnetFile);
            DateTime startedAt = DateTime.UtcNow;
            var clock = Stopwatch.StartNew();
            LabProcess daemon = node.StartFlanneld();
            while (!File.Exists(node.SubnetFile))
            {
                if (daemon.HasExited || clock.Elapsed > TimeSpan.FromSeconds(30))
                {
                    throw new InvalidOperationException("flanneld did not write subnet.env: " + daemon.ReadLog());
                }

                Thread.Sleep(1);
            }

            double ms = clock.Elapsed.TotalMilliseconds;
            (double peakAtEnv, _) = Stats.Memory(daemon.Id);
            await Task.Delay(2000);
            (double peakLater, double rss) = Stats.Memory(daemon.Id);
            await daemon.StopAsync(TimeSpan.FromSeconds(5));
            if (run == runs)
            {
                Stats.LogTimeline(daemon.ReadLog(), startedAt);
            }

            // Run 0 acquires a new lease; later runs renew it, as a restarted daemon does.
            if (run == 0)
            {
                first = ms;
            }
            else
            {
                startup.Add(ms);
                peak.Add(peakLater);
                steady.Add(rss);
            }

            Stats.Log($"startup {backend} run {run}: {Stats.F(ms)} ms, VmHWM at env {Stats.F(peakAtEnv)} MiB, after 2 s {Stats.F(peakLater)} MiB, VmRSS {Stats.F(rss)} MiB");

            etcdctl.Add(await TimeAsync(node.Namespace, "etcdctl", "--endpoints", LabPaths.EtcdEndpoint, "get", "/coreos.com/network/config"));
            trueRuns.Add(await TimeAsync(node.Namespace, "/bin/true"));
        }

        double median = Stats.Median(startup);
        double etcdMedian = Stats.Median(etcdctl);
        report.Row($"start -> subnet.env ({backend})", $"{Stats.Describe(startup)} ms; first start (new lease) {Stats.F(first)} ms",
            $"etcdctl get {Stats.F(etcdMedian)} ms (ratio {Stats.F(median / etcdMedian, "F2")}); /bin/true {Stats.F(Stats.Median(trueRuns))} ms; upstream ~40 ms",
            "~40 ms", median <= 40 ? "met" : "not met");
        report.Row($"peak RSS VmHWM ({backend})", $"{Stats.Describe(peak)} MiB", "upstream ~45 MB", "<= 30 MB", Stats.Median(peak) <= 30 / 1.048576 ? "met" : "not met");
        report.Row($"steady RSS VmRSS 2 s after start ({backend})", $"{Stats.Describe(steady)} MiB", "upstream ~45 MB", "<= 30 MB", Stats.Median(steady) <= 30 / 1.048576 ? "met" : "not met");
    }

    private static async Task<double> TimeAsync(string ns, string file, params string[] args)
    {
        var clock = Stopwatch.StartNew();
        Shell.Result result = await Shell.RunAsync("ip", ["netns", "exec", ns, file, .. args], env: new Dictionary<string, string> { ["ETCDCTL_API"] = "3" });
        double ms = clock.Elapsed.TotalMilliseconds;
        return result.Ok ? ms : throw new InvalidOperationException($"{file} failed: {result.StdErr}");
    }
}
