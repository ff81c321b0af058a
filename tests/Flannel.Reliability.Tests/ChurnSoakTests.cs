using System.Diagnostics;
using System.Globalization;
using Flannel.Lab;
using Xunit.Abstractions;

namespace Flannel.Reliability.Tests;

/// <summary>
/// Case 8 (soak, FLANNEL_SOAK=1): 2,000 simulated nodes (leases written straight into etcd) churning 50 joins and
/// 50 leaves a second for 60 s while 3 real vxlan daemons watch. Reports the time to converge after the churn, peak
/// and final RSS, and CPU seconds per daemon; holds that every daemon converges entry for entry and keeps running.
/// </summary>
public sealed class ChurnSoakTests(ITestOutputHelper output)
{
    private const int Simulated = 2000;
    private const int PerSecond = 50;
    private const int Pool = 4080;

    private static int Seconds => int.TryParse(Environment.GetEnvironmentVariable("FLANNEL_SOAK_SECONDS"), CultureInfo.InvariantCulture, out int s) ? s : 60;

    [SoakFact]
    public async Task Churn2000SimulatedNodes_ThreeDaemonsConverge_ReportsRssAndCpu()
    {
        await using LabCluster cluster = await LabCluster.CreateAsync(new LabOptions { Nodes = 3, NetConfig = CrashDuringProgrammingTests.NetConfig });
        var live = new Queue<int>(Enumerable.Range(0, Simulated));
        var free = new Queue<int>(Enumerable.Range(Simulated, Pool - Simulated));
        await cluster.EtcdPutManyAsync(live.Select(i => CrashDuringProgrammingTests.Peer(i)).Select(p => KeyValuePair.Create(p.Key, p.Value)));
        foreach (LabNode node in cluster.Nodes)
        {
            node.StartFlanneld();
        }

        foreach (LabNode node in cluster.Nodes)
        {
            await node.WaitForSubnetEnvAsync(TimeSpan.FromSeconds(60));
        }

        // The real nodes took free /28s too: the churn must never write over their keys.
        var taken = (await cluster.GetLeasesAsync()).Keys.ToHashSet(StringComparer.Ordinal);
        free = new Queue<int>(free.Where(i => !taken.Contains(CrashDuringProgrammingTests.Peer(i).Key)));
        var peakRss = cluster.Nodes.ToDictionary(n => n, _ => 0L);
        var clock = Stopwatch.StartNew();
        for (int second = 0; second < Seconds; second++)
        {
            int[] leaving = Enumerable.Range(0, PerSecond).Select(_ => live.Dequeue()).ToArray();
            int[] joining = Enumerable.Range(0, PerSecond).Select(_ => free.Dequeue()).ToArray();
            string script = "\n" + string.Join('\n',
                leaving.Select(i => "del " + CrashDuringProgrammingTests.Peer(i).Key).Concat(
                joining.Select(i => CrashDuringProgrammingTests.Peer(i)).Select(p => $"put {p.Key} \"{p.Value.Replace("\"", "\\\"", StringComparison.Ordinal)}\""))) + "\n\n\n";
            await cluster.EtcdCtlTxnAsync(script);
            foreach (int i in joining)
            {
                live.Enqueue(i);
            }

            foreach (int i in leaving)
            {
                free.Enqueue(i);
            }

            foreach (LabNode node in cluster.Nodes)
            {
                Assert.False(node.Flanneld!.HasExited, $"{node.Name}'s flanneld exited {second} s into the churn (code {(node.Flanneld.HasExited ? node.Flanneld.ExitCode : 0)}):\n{Tail(node.Flanneld.ReadLog())}");
                peakRss[node] = Math.Max(peakRss[node], ProcStat.RssKiB(node.Flanneld!.Id));
            }

            TimeSpan wait = TimeSpan.FromSeconds(second + 1) - clock.Elapsed;
            if (wait > TimeSpan.Zero)
            {
                await Task.Delay(wait);
            }
        }

        TimeSpan churn = clock.Elapsed;
        clock.Restart();
        var expected = live.Select(i => CrashDuringProgrammingTests.Peer(i)).ToList();
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
            Assert.True(await KernelView.EventuallyAsync(async () => (mismatch = await CrashDuringProgrammingTests.MismatchAsync(node, peers)) is null, TimeSpan.FromSeconds(120)),
                $"{node.Name} did not converge after the churn: {mismatch}");
            Assert.False(node.Flanneld!.HasExited, node.Flanneld.ReadLog());
        }

        TimeSpan converge = clock.Elapsed;
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"churn: {Seconds} s x ({PerSecond} joins + {PerSecond} leaves) over {Simulated} simulated nodes took {churn.TotalSeconds:F1} s; all 3 daemons converged {converge.TotalMilliseconds:F0} ms after it"));
        foreach (LabNode node in cluster.Nodes)
        {
            int pid = node.Flanneld!.Id;
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{node.Name}: peak RSS {peakRss[node] / 1024.0:F1} MiB, final RSS {ProcStat.RssKiB(pid) / 1024.0:F1} MiB, CPU {ProcStat.CpuSeconds(pid):F2} s"));
        }
    }

    private static string Tail(string log) => log.Length > 6000 ? log[^6000..] : log;
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
