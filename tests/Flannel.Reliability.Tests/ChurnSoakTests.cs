using System.Diagnostics;
using System.Globalization;
using Flannel.Lab;
using Xunit.Abstractions;

namespace Flannel.Reliability.Tests;

/// <summary>
/// Case 8 (soak, FLANNEL_SOAK=1): 2,000 simulated nodes (leases written straight into etcd) churning 50 joins and
/// 50 leaves a second for FLANNEL_SOAK_CHURN_SECONDS (60) while 3 real vxlan daemons watch; then a slow churn
/// (5 joins + 5 leaves every 10 s) until FLANNEL_SOAK_SECONDS (600) have passed since the churn began. Holds that every
/// daemon converges entry for entry after the churn and at the end, keeps running, and that its final RSS is within 5%
/// of its RSS right after the churn. Reports the time to converge, RSS every 10 s (peak, post-churn, final), CPU
/// seconds per phase, and the etcd requests each daemon sent (its flannel_store_requests_total on /metrics).
/// </summary>
public sealed class ChurnSoakTests(ITestOutputHelper output)
{
    private const int Simulated = 2000;
    private const int PerSecond = 50;
    private const int SlowPerSample = 5;
    private const int Pool = 4080;
    private const int HealthPort = 9101;
    private static readonly TimeSpan SampleEvery = TimeSpan.FromSeconds(10);

    private static int ChurnSeconds => Setting("FLANNEL_SOAK_CHURN_SECONDS", 60);

    private static int TotalSeconds => Math.Max(ChurnSeconds, Setting("FLANNEL_SOAK_SECONDS", 600));

    [SoakFact]
    public async Task Churn2000SimulatedNodes_ThreeDaemonsConverge_ReportsRssCpuAndEtcdRequests()
    {
        await using LabCluster cluster = await LabCluster.CreateAsync(new LabOptions { Nodes = 3, NetConfig = CrashDuringProgrammingTests.NetConfig });
        var churn = new Churn(cluster);
        await cluster.EtcdPutManyAsync(churn.Live.Select(i => CrashDuringProgrammingTests.Peer(i)).Select(p => KeyValuePair.Create(p.Key, p.Value)));
        foreach (LabNode node in cluster.Nodes)
        {
            node.StartFlanneld("--healthz-ip=127.0.0.1", "--healthz-port=" + HealthPort.ToString(CultureInfo.InvariantCulture));
        }

        foreach (LabNode node in cluster.Nodes)
        {
            await node.WaitForSubnetEnvAsync(TimeSpan.FromSeconds(60));
        }

        // The real nodes took free /28s too: the churn must never write over their keys.
        churn.Exclude((await cluster.GetLeasesAsync()).Keys);
        await ConvergedWithinAsync(cluster, churn, TimeSpan.FromSeconds(120));
        var phases = new List<Phase> { await Phase.SampleAsync("started", cluster) };
        var series = cluster.Nodes.ToDictionary(n => n, _ => new List<long>());
        var peakRss = cluster.Nodes.ToDictionary(n => n, _ => 0L);

        void Sample(int second, bool record)
        {
            foreach (LabNode node in cluster.Nodes)
            {
                Assert.False(node.Flanneld!.HasExited, $"{node.Name}'s flanneld exited {second} s into the soak (code {(node.Flanneld.HasExited ? node.Flanneld.ExitCode : 0)}):\n{Tail(node.Flanneld.ReadLog())}");
                long rss = ProcStat.RssKiB(node.Flanneld.Id);
                peakRss[node] = Math.Max(peakRss[node], rss);
                if (record)
                {
                    series[node].Add(rss);
                }
            }
        }

        var clock = Stopwatch.StartNew();
        for (int second = 0; second < ChurnSeconds; second++)
        {
            await churn.StepAsync(PerSecond);
            Sample(second, second % (int)SampleEvery.TotalSeconds == 0);
            if (second + 1 < ChurnSeconds)
            {
                await UntilAsync(clock, TimeSpan.FromSeconds(second + 1));
            }
        }

        // The convergence time runs from the last transaction's answer: an upper bound, since checking 3 nodes'
        // 6,000 kernel entries takes a while itself.

        TimeSpan churnTook = clock.Elapsed;
        TimeSpan converge = await ConvergedWithinAsync(cluster, churn, TimeSpan.FromSeconds(120));
        phases.Add(await Phase.SampleAsync("after churn", cluster));

        // The slow phase: a trickle of joins and leaves, sampled every 10 s, until the soak's length has passed.
        for (int tick = 1; clock.Elapsed + SampleEvery <= TimeSpan.FromSeconds(TotalSeconds); tick++)
        {
            await UntilAsync(clock, churnTook + converge + (tick * SampleEvery));
            await churn.StepAsync(SlowPerSample);
            Sample((int)clock.Elapsed.TotalSeconds, record: true);
        }

        TimeSpan finalConverge = await ConvergedWithinAsync(cluster, churn, TimeSpan.FromSeconds(120));
        phases.Add(await Phase.SampleAsync("end", cluster));
        Sample((int)clock.Elapsed.TotalSeconds, record: true);

        double churnMinutes = churnTook.TotalMinutes;
        double slowMinutes = (clock.Elapsed - churnTook).TotalMinutes;
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"soak: {clock.Elapsed.TotalSeconds:F0} s; churn {ChurnSeconds} x ({PerSecond} joins + {PerSecond} leaves) over {Simulated} simulated nodes took {churnTook.TotalSeconds:F1} s, all 3 daemons converged {converge.TotalMilliseconds:F0} ms after it; then {SlowPerSample} + {SlowPerSample} every {SampleEvery.TotalSeconds:F0} s, converged {finalConverge.TotalMilliseconds:F0} ms after the last; load {File.ReadAllText("/proc/loadavg").Trim()}"));
        var grown = new List<string>();
        foreach (LabNode node in cluster.Nodes)
        {
            long afterChurn = phases[1].Rss[node];
            long final = phases[2].Rss[node];
            double growth = (final - afterChurn) * 100.0 / afterChurn;
            IReadOnlyDictionary<string, long> startup = phases[0].Requests[node];
            Dictionary<string, long> duringChurn = Phase.Delta(phases[0].Requests[node], phases[1].Requests[node]);
            Dictionary<string, long> duringSlow = Phase.Delta(phases[1].Requests[node], phases[2].Requests[node]);
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{node.Name}: RSS peak {Mib(peakRss[node])}, after churn {Mib(afterChurn)}, final {Mib(final)} MiB ({growth:+0.0;-0.0}% since the churn); CPU {phases[0].Cpu[node]:F2} s startup, {phases[1].Cpu[node] - phases[0].Cpu[node]:F2} s churn, {phases[2].Cpu[node] - phases[1].Cpu[node]:F2} s slow phase, {phases[2].Cpu[node]:F2} s in all"));
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{node.Name}: etcd requests {phases[2].Requests[node].Values.Sum()} in all: startup {Phase.Format(startup)}; churn {duringChurn.Values.Sum()} ({duringChurn.Values.Sum() / churnMinutes:F1}/min) {Phase.Format(duringChurn)}; slow phase {duringSlow.Values.Sum()} ({duringSlow.Values.Sum() / slowMinutes:F1}/min) {Phase.Format(duringSlow)}"));
            output.WriteLine($"{node.Name}: RSS MiB every {SampleEvery.TotalSeconds:F0} s: {string.Join(' ', series[node].Select(Mib))}");
            if (growth > 5)
            {
                grown.Add(string.Create(CultureInfo.InvariantCulture, $"{node.Name} {growth:F1}%"));
            }
        }

        Assert.True(grown.Count == 0, "RSS grew more than 5% after the churn: " + string.Join(", ", grown));
    }

    private static async Task<TimeSpan> ConvergedWithinAsync(LabCluster cluster, Churn churn, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        var expected = churn.Live.Select(i => CrashDuringProgrammingTests.Peer(i)).ToList();
        IReadOnlyDictionary<string, string> leases = await cluster.GetLeasesAsync();
        foreach (LabNode node in cluster.Nodes)
        {
            // The other real nodes are peers too.
            var peers = expected.Concat(leases
                .Where(kv => Lab.PublicIpOf(kv.Value) is { } ip && ip.StartsWith("192.0.2.", StringComparison.Ordinal) && ip != node.Address)
                .Select(kv =>
                {
                    string subnet = kv.Key[Lab.SubnetsPrefix.Length..].Replace('-', '/');
                    string mac = (string)System.Text.Json.Nodes.JsonNode.Parse(kv.Value)!["BackendData"]!["VtepMAC"]!;
                    return (kv.Key, kv.Value, subnet, subnet.Split('/')[0], mac, Lab.PublicIpOf(kv.Value)!);
                })).ToList();
            string? mismatch = "not checked";
            Assert.True(await KernelView.EventuallyAsync(async () => (mismatch = await CrashDuringProgrammingTests.MismatchAsync(node, peers)) is null, timeout),
                $"{node.Name} did not converge: {mismatch}");
            Assert.False(node.Flanneld!.HasExited, node.Flanneld.ReadLog());
        }

        return clock.Elapsed;
    }

    private static async Task UntilAsync(Stopwatch clock, TimeSpan at)
    {
        TimeSpan wait = at - clock.Elapsed;
        if (wait > TimeSpan.Zero)
        {
            await Task.Delay(wait);
        }
    }

    private static int Setting(string name, int fallback) =>
        int.TryParse(Environment.GetEnvironmentVariable(name), CultureInfo.InvariantCulture, out int value) && value > 0 ? value : fallback;

    private static string Mib(long kib) => (kib / 1024.0).ToString("F1", CultureInfo.InvariantCulture);

    private static string Tail(string log) => log.Length > 6000 ? log[^6000..] : log;

    /// <summary>The simulated nodes: the oldest leave, fresh /28s join, in one etcd transaction per step.</summary>
    private sealed class Churn(LabCluster cluster)
    {
        private Queue<int> _free = new(Enumerable.Range(Simulated, Pool - Simulated));

        public Queue<int> Live { get; } = new(Enumerable.Range(0, Simulated));

        public void Exclude(IEnumerable<string> keys)
        {
            var taken = keys.ToHashSet(StringComparer.Ordinal);
            _free = new Queue<int>(_free.Where(i => !taken.Contains(CrashDuringProgrammingTests.Peer(i).Key)));
        }

        public async Task StepAsync(int count)
        {
            int[] leaving = Enumerable.Range(0, count).Select(_ => Live.Dequeue()).ToArray();
            int[] joining = Enumerable.Range(0, count).Select(_ => _free.Dequeue()).ToArray();
            string script = "\n" + string.Join('\n',
                leaving.Select(i => "del " + CrashDuringProgrammingTests.Peer(i).Key).Concat(
                joining.Select(i => CrashDuringProgrammingTests.Peer(i)).Select(p => $"put {p.Key} \"{p.Value.Replace("\"", "\\\"", StringComparison.Ordinal)}\""))) + "\n\n\n";
            await cluster.EtcdCtlTxnAsync(script);
            foreach (int i in joining)
            {
                Live.Enqueue(i);
            }

            foreach (int i in leaving)
            {
                _free.Enqueue(i);
            }
        }
    }

    /// <summary>Each daemon's RSS, CPU seconds and etcd requests (by operation, from its /metrics) at one moment.</summary>
    private sealed record Phase(string Name, Dictionary<LabNode, long> Rss, Dictionary<LabNode, double> Cpu, Dictionary<LabNode, IReadOnlyDictionary<string, long>> Requests)
    {
        public static async Task<Phase> SampleAsync(string name, LabCluster cluster)
        {
            var requests = new Dictionary<LabNode, IReadOnlyDictionary<string, long>>();
            foreach (LabNode node in cluster.Nodes)
            {
                requests[node] = await StoreRequestsAsync(node);
            }

            return new Phase(
                name,
                cluster.Nodes.ToDictionary(n => n, n => ProcStat.RssKiB(n.Flanneld!.Id)),
                cluster.Nodes.ToDictionary(n => n, n => ProcStat.CpuSeconds(n.Flanneld!.Id)),
                requests);
        }

        public static Dictionary<string, long> Delta(IReadOnlyDictionary<string, long> before, IReadOnlyDictionary<string, long> after) =>
            after.Select(kv => (kv.Key, n: kv.Value - before.GetValueOrDefault(kv.Key))).Where(d => d.n != 0).ToDictionary(d => d.Key, d => d.n, StringComparer.Ordinal);

        public static string Format(IReadOnlyDictionary<string, long> counts) =>
            counts.Count == 0 ? "(none)" : string.Join(' ', counts.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => string.Create(CultureInfo.InvariantCulture, $"{kv.Key}={kv.Value}")));

        private static async Task<IReadOnlyDictionary<string, long>> StoreRequestsAsync(LabNode node)
        {
            string text = await Lab.MetricsAsync(node, HealthPort);
            Dictionary<string, long> counts = Lab.CounterByLabel(text, "flannel_store_requests_total", "operation");
            Assert.True(counts.Count > 0, $"{node.Name}: no flannel_store_requests_total on /metrics:\n{text}");
            return counts;
        }
    }
}

/// <summary>Memory and CPU of a process from /proc.</summary>
internal static class ProcStat
{
    public static long RssKiB(int pid)
    {
        string? line = File.ReadLines($"/proc/{pid}/status").FirstOrDefault(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
        return line is null ? 0 : long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture);
    }

    public static double CpuSeconds(int pid)
    {
        string stat = File.ReadAllText($"/proc/{pid}/stat");
        string[] fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        // utime and stime are fields 14 and 15 of stat; after the command name they are at 11 and 12; ticks of 1/100 s.
        return (long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture)) / 100.0;
    }
}
