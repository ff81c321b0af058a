using System.Diagnostics;
using System.Text;
using Flannel.Lab;
using Flannel.Linux.Netlink;

namespace Flannel.Bench;

/// <summary>
/// Issue 3: with N remote leases in etcd, flanneld start -> every route (and for vxlan every neighbour and FDB entry)
/// in the kernel; then a running daemon given 1,000 more leases in one transaction, and their deletion; daemon RSS
/// with N peers. Baseline: the same entries pushed by ip -batch / bridge -batch into a fresh namespace.
/// </summary>
internal static class ConvergeBench
{
    private const int Burst = 1000;

    /// <param name="hold">Seconds the daemon keeps running after the burst before its memory is read again: the
    /// periodic kernel check (every 10 s) dumps and compares every entry, so the start-up peak is not the only one.</param>
    public static async Task RunAsync(string backend, int leases, int runs, int hold, Report report)
    {
        bool vxlan = backend == "vxlan";
        IpPrefix within = IpPrefix.Parse(Leases.Network);
        await using LabCluster cluster = await LabCluster.CreateAsync(new LabOptions { Nodes = 1, NetConfig = null });
        LabNode node = cluster.Nodes[0];
        await using BenchEtcd etcd = await BenchEtcd.StartAsync(cluster);
        await etcd.PutAsync("/coreos.com/network/config", Leases.NetConfig(backend));
        await etcd.TxnAsync(Leases.Range(backend, 1, leases), []);
        using var kernel = new KernelCounter(node.Namespace);

        var start = new List<double>();
        var add = new List<double>();
        var remove = new List<double>();
        var peak = new List<double>();
        var rss = new List<double>();
        var heldPeak = new List<double>();
        var heldRss = new List<double>();
        for (int run = 0; run < runs; run++)
        {
            await ClearAsync(node, vxlan);
            File.Delete(node.SubnetFile);
            DateTime startedAt = DateTime.UtcNow;
            var clock = Stopwatch.StartNew();
            LabProcess daemon = node.StartFlanneld("--etcd-endpoints=" + BenchEtcd.Endpoint);
            try
            {
                if (!await kernel.WaitForAsync(within, leases, vxlan, TimeSpan.FromSeconds(120)))
                {
                    throw new TimeoutException($"{backend}: {leases} leases not in the kernel after 120 s; log:\n{daemon.ReadLog()}");
                }

                start.Add(clock.Elapsed.TotalMilliseconds);
                await Task.Delay(1000);
                (double p, double r) = Stats.Memory(daemon.Id);
                peak.Add(p);
                rss.Add(r);

                // The burst must not overwrite this node's own lease, which the daemon picked among the free subnets.
                int own = OwnIndex(node);
                List<int> burst = Enumerable.Range(leases + 1, Burst + 1).Where(i => i != own).Take(Burst).ToList();
                clock.Restart();
                await etcd.TxnAsync(burst.Select(i => (Leases.Key(i), Leases.Value(backend, i))).ToList(), []);
                double written = clock.Elapsed.TotalMilliseconds;
                if (!await kernel.WaitForAsync(within, leases + Burst, vxlan, TimeSpan.FromSeconds(60)))
                {
                    throw new TimeoutException($"{backend}: burst of {Burst} not applied; log:\n{daemon.ReadLog()}");
                }

                add.Add(clock.Elapsed.TotalMilliseconds);
                clock.Restart();
                await etcd.TxnAsync([], burst.Select(Leases.Key).ToList());
                if (!await kernel.WaitForAsync(within, leases, vxlan, TimeSpan.FromSeconds(60), exact: true))
                {
                    throw new TimeoutException($"{backend}: burst of {Burst} not removed; log:\n{daemon.ReadLog()}");
                }

                remove.Add(clock.Elapsed.TotalMilliseconds);
                if (hold > 0)
                {
                    await Task.Delay(TimeSpan.FromSeconds(hold));
                    (double hp, double hr) = Stats.Memory(daemon.Id);
                    heldPeak.Add(hp);
                    heldRss.Add(hr);
                    Stats.Log($"converge {backend} {leases} run {run}: after the burst and {hold} s more, VmHWM {Stats.F(hp)} MiB, VmRSS {Stats.F(hr)} MiB");
                }

                if (run == runs - 1)
                {
                    Stats.LogTimeline(daemon.ReadLog(), startedAt);
                }

                Stats.Log($"converge {backend} {leases} run {run}: start {Stats.F(start[^1])} ms, +{Burst} {Stats.F(add[^1])} ms (txn {Stats.F(written)} ms), -{Burst} {Stats.F(remove[^1])} ms, VmHWM {Stats.F(p)} MiB, VmRSS {Stats.F(r)} MiB");
            }
            finally
            {
                await daemon.StopAsync(TimeSpan.FromSeconds(10));
            }
        }

        List<double> batch = await IpBatchAsync(cluster, backend, leases, runs);
        double median = Stats.Median(start), baseline = Stats.Median(batch);
        double goal = leases <= 1000 ? 250 : 2000;
        report.Row($"{leases} leases: start -> all in kernel ({backend})", $"{Stats.Describe(start)} ms",
            $"ip -batch {Stats.F(baseline)} ms (ratio {Stats.F(median / baseline, "F2")}); upstream 1,000: {(vxlan ? "0.75" : "2.0")} s",
            leases <= 1000 ? "< 0.25 s" : "< 2 s", median < goal ? "met" : "not met");
        report.Row($"running daemon with {leases}: +{Burst} leases in one txn -> in kernel ({backend})", $"{Stats.Describe(add)} ms", "", "", "");
        report.Row($"running daemon with {leases}: {Burst} leases deleted in one txn -> gone ({backend})", $"{Stats.Describe(remove)} ms", "", "", "");
        report.Row($"daemon RSS with {leases} peers ({backend})", $"VmRSS {Stats.Describe(rss)} MiB; VmHWM {Stats.Describe(peak)} MiB", "upstream: not quoted",
            leases >= 10000 ? "< 40 MB" : "", leases >= 10000 ? (Stats.Median(peak) < 40 / 1.048576 ? "met" : "not met") : "");
        if (hold > 0)
        {
            report.Row($"daemon RSS with {leases} peers ({backend}), {hold} s after the +/-{Burst} burst (periodic checks included)", $"VmRSS {Stats.Describe(heldRss)} MiB; VmHWM since start {Stats.Describe(heldPeak)} MiB", "",
                leases >= 10000 ? "< 40 MB" : "", leases >= 10000 ? (Stats.Median(heldPeak) < 40 / 1.048576 ? "met" : "not met") : "");
        }
    }

    private static int OwnIndex(LabNode node)
    {
        byte[] b = Flannel.Core.Config.SubnetEnvFile.TryRead(node.SubnetFile)!.Subnet!.Value.IPAddress.GetAddressBytes();
        return (((b[1] - 18) << 16) | (b[2] << 8) | b[3]) / 8;
    }

    private static async Task ClearAsync(LabNode node, bool vxlan)
    {
        if (vxlan)
        {
            await Shell.RunAsync("ip", ["-n", node.Namespace, "link", "del", "flannel.1"]);
        }
        else
        {
            await Shell.RunAsync("ip", ["-n", node.Namespace, "route", "flush", "root", Leases.Network]);
        }
    }

    /// <summary>The same entries by ip -batch (and bridge -batch) into a fresh namespace with a veth underlay (no dummy module here).</summary>
    private static async Task<List<double>> IpBatchAsync(LabCluster cluster, string backend, int leases, int runs)
    {
        bool vxlan = backend == "vxlan";
        string routesFile = Path.Combine(cluster.WorkDir, "batch-ip"), fdbFile = Path.Combine(cluster.WorkDir, "batch-fdb");
        var ip = new StringBuilder();
        var fdb = new StringBuilder();
        for (int i = 1; i <= leases; i++)
        {
            string subnet = Leases.Subnet(i);
            if (vxlan)
            {
                ip.Append("neigh add ").Append(subnet).Append(" lladdr ").Append(Leases.Mac(i)).Append(" dev flannel.1 nud permanent\n");
                ip.Append("route add ").Append(subnet).Append("/29 via ").Append(subnet).Append(" dev flannel.1 onlink\n");
                fdb.Append("fdb add ").Append(Leases.Mac(i)).Append(" dev flannel.1 dst ").Append(Leases.PublicIp(i)).Append(" self permanent\n");
            }
            else
            {
                ip.Append("route add ").Append(subnet).Append("/29 via ").Append(Leases.PublicIp(i)).Append(" dev d0\n");
            }
        }

        await File.WriteAllTextAsync(routesFile, ip.ToString());
        await File.WriteAllTextAsync(fdbFile, fdb.ToString());
        string ns = cluster.Options.Prefix + "-batch";
        var times = new List<double>();
        for (int run = 0; run < runs; run++)
        {
            await Shell.CheckAsync("ip", ["netns", "add", ns]);
            try
            {
                await Shell.CheckAsync("ip", ["-n", ns, "link", "add", "d0", "type", "veth", "peer", "name", "d0p"]);
                await Shell.CheckAsync("ip", ["-n", ns, "link", "set", "d0p", "up"]);
                await Shell.CheckAsync("ip", ["-n", ns, "addr", "add", "192.0.2.1/24", "dev", "d0"]);
                await Shell.CheckAsync("ip", ["-n", ns, "link", "set", "d0", "up"]);
                if (vxlan)
                {
                    await Shell.CheckAsync("ip", ["-n", ns, "link", "add", "flannel.1", "type", "vxlan", "id", "1", "local", "192.0.2.1", "dev", "d0", "dstport", "8472", "nolearning"]);
                    await Shell.CheckAsync("ip", ["-n", ns, "link", "set", "flannel.1", "up"]);
                }

                var clock = Stopwatch.StartNew();
                await Shell.CheckAsync("ip", ["netns", "exec", ns, "ip", "-batch", routesFile], timeout: TimeSpan.FromMinutes(5));
                if (vxlan)
                {
                    await Shell.CheckAsync("ip", ["netns", "exec", ns, "bridge", "-batch", fdbFile], timeout: TimeSpan.FromMinutes(5));
                }

                times.Add(clock.Elapsed.TotalMilliseconds);
                Stats.Log($"ip -batch {backend} {leases} run {run}: {Stats.F(times[^1])} ms");
            }
            finally
            {
                await Shell.RunAsync("ip", ["netns", "del", ns]);
            }
        }

        return times;
    }
}
