using System.Globalization;
using Flannel.Lab;

namespace Flannel.Bench;

/// <summary>
/// Where the daemon's RSS goes: one vxlan node, flanneld started with GC settings varied through DOTNET_*
/// environment variables (no rebuild), RSS split into anonymous and file-backed pages and PSS, 2 s after
/// subnet.env.
/// </summary>
internal static class MemoryBench
{
    private static readonly (string Name, Dictionary<string, string> Env)[] Variants =
    [
        ("as shipped", []),
        ("DOTNET_GCgen0size=0x400000 (4 MiB gen0 budget)", new() { ["DOTNET_GCgen0size"] = "0x400000" }),
        ("DOTNET_GCConserveMemory=5", new() { ["DOTNET_GCConserveMemory"] = "5" }),
        ("DOTNET_GCHeapHardLimit=0x4000000 (64 MiB)", new() { ["DOTNET_GCHeapHardLimit"] = "0x4000000" }),
    ];

    public static async Task RunAsync(int runs, Report report)
    {
        await using LabCluster cluster = await LabCluster.CreateAsync(new LabOptions { Nodes = 1 });
        LabNode node = cluster.Nodes[0];
        string[] args = ["--etcd-endpoints=" + LabPaths.EtcdEndpoint, "--subnet-file=" + node.SubnetFile];
        foreach ((string name, Dictionary<string, string> env) in Variants)
        {
            var rss = new List<double>();
            var anon = new List<double>();
            var file = new List<double>();
            var pss = new List<double>();
            for (int run = 0; run < runs; run++)
            {
                File.Delete(node.SubnetFile);
                await using LabProcess daemon = LabProcess.Start(node.Namespace, Path.Combine(cluster.Options.BinDir, "flanneld"), args, Path.Combine(node.WorkDir, "memory.log"), env);
                try
                {
                    await node.WaitForSubnetEnvAsync(TimeSpan.FromSeconds(30));
                    await Task.Delay(2000);
                    Dictionary<string, double> status = Fields($"/proc/{daemon.Id}/status");
                    Dictionary<string, double> rollup = Fields($"/proc/{daemon.Id}/smaps_rollup");
                    rss.Add(status["VmRSS"]);
                    anon.Add(status["RssAnon"]);
                    file.Add(status["RssFile"]);
                    pss.Add(rollup["Pss"]);
                }
                finally
                {
                    await daemon.StopAsync(TimeSpan.FromSeconds(5));
                }
            }

            Stats.Log($"memory {name}: VmRSS {Stats.Describe(rss)} RssAnon {Stats.Describe(anon)} RssFile {Stats.Describe(file)} Pss {Stats.Describe(pss)} MiB");
            report.Row($"flanneld vxlan RSS, {name}", $"VmRSS {Stats.F(Stats.Median(rss))} MiB = anon {Stats.F(Stats.Median(anon))} + file {Stats.F(Stats.Median(file))}; PSS {Stats.F(Stats.Median(pss))} MiB (n={runs})", "", "<= 30 MB", Stats.Median(rss) <= 30 / 1.048576 ? "met" : "not met");
        }
    }

    /// <summary>"Name: 1234 kB" lines of a /proc file, in MiB.</summary>
    private static Dictionary<string, double> Fields(string path)
    {
        var result = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (string line in File.ReadLines(path))
        {
            string[] parts = line.Split(':', 2, StringSplitOptions.TrimEntries);
            if (parts.Length == 2 && parts[1].EndsWith(" kB", StringComparison.Ordinal))
            {
                result[parts[0]] = long.Parse(parts[1][..^3].Trim(), CultureInfo.InvariantCulture) / 1024.0;
            }
        }

        return result;
    }
}
