using System.Globalization;
using System.Text.Json.Nodes;
using Flannel.Core.Config;
using Flannel.Lab;

namespace Flannel.Bench;

/// <summary>
/// Issue 3: pod-to-pod TCP throughput across two nodes (iperf3, 1 and 4 streams) with the kernel state our daemon
/// made, then in the same cluster with the daemons stopped and that state replaced by hand: for vxlan a vxlan device
/// made with ip link (MTU 1450, its own VNI and port), for host-gw the same routes added with ip route.
/// </summary>
internal static class ThroughputBench
{
    public static async Task RunAsync(string backend, int runs, int seconds, Report report)
    {
        bool vxlan = backend == "vxlan";
        await using LabCluster cluster = await LabCluster.CreateAsync(new LabOptions
        {
            Nodes = 2,
            NetConfig = """{"Network":"198.18.0.0/16","SubnetLen":24,"Backend":{"Type":"BACKEND"}}""".Replace("BACKEND", backend, StringComparison.Ordinal),
        });
        var env = new Dictionary<LabNode, SubnetEnv>();
        foreach (LabNode node in cluster.Nodes)
        {
            node.StartFlanneld();
        }

        foreach (LabNode node in cluster.Nodes)
        {
            env[node] = await node.WaitForSubnetEnvAsync(TimeSpan.FromSeconds(30));
        }

        LabNode n1 = cluster.Nodes[0], n2 = cluster.Nodes[1];
        LabPod client = await n1.AddPodAsync(), server = await n2.AddPodAsync();
        for (int i = 0; i < 100 && !await client.PingAsync(server.Address); i++)
        {
            await Task.Delay(100);
        }

        LabProcess iperf = LabProcess.Start(server.Namespace, "iperf3", ["-s"], Path.Combine(cluster.WorkDir, "iperf3-server.log"));
        try
        {
            await Task.Delay(300);
            Dictionary<int, List<double>> daemon = await MeasureAsync(client, server, runs, seconds, "daemon " + backend);
            foreach (LabNode node in cluster.Nodes)
            {
                await node.Flanneld!.StopAsync(TimeSpan.FromSeconds(5));
            }

            await ReplaceByHandAsync(vxlan, n1, n2, env);
            if (!await client.PingAsync(server.Address, 3))
            {
                throw new InvalidOperationException("hand-made path does not carry traffic: " + await n1.IpAsync("route"));
            }

            Dictionary<int, List<double>> hand = await MeasureAsync(client, server, runs, seconds, "hand " + backend);
            string baselineName = vxlan ? "hand-made vxlan device (ip link, MTU 1450)" : "hand-made routes (ip route)";
            foreach (int streams in daemon.Keys)
            {
                double ratio = Stats.Median(daemon[streams]) / Stats.Median(hand[streams]);
                report.Row($"iperf3 pod->pod {streams} stream(s), {seconds} s ({backend})", $"{Stats.Describe(daemon[streams], "F2")} Gbit/s",
                    $"{baselineName} {Stats.Describe(hand[streams], "F2")} Gbit/s; ratio {Stats.F(ratio, "F2")}", ">= 0.95", ratio >= 0.95 ? "met" : "not met");
            }
        }
        finally
        {
            await iperf.KillAsync();
            await iperf.DisposeAsync();
        }
    }

    private static async Task<Dictionary<int, List<double>>> MeasureAsync(LabPod client, LabPod server, int runs, int seconds, string label)
    {
        var results = new Dictionary<int, List<double>> { [1] = [], [4] = [] };
        for (int run = 0; run < runs; run++)
        {
            foreach (int streams in results.Keys)
            {
                Shell.Result result = await Shell.RunAsync("ip",
                    ["netns", "exec", client.Namespace, "iperf3", "-c", server.Address, "-t", seconds.ToString(CultureInfo.InvariantCulture), "-P", streams.ToString(CultureInfo.InvariantCulture), "-J"],
                    timeout: TimeSpan.FromSeconds(seconds + 30));
                if (!result.Ok)
                {
                    throw new InvalidOperationException("iperf3 failed: " + result.StdErr + result.StdOut);
                }

                double gbits = (double)JsonNode.Parse(result.StdOut)!["end"]!["sum_received"]!["bits_per_second"]! / 1e9;
                results[streams].Add(gbits);
                Stats.Log($"iperf3 {label} {streams} stream(s) run {run}: {Stats.F(gbits, "F2")} Gbit/s");
            }
        }

        return results;
    }

    private static string NetworkOf(SubnetEnv env)
    {
        byte[] bytes = env.Subnet!.Value.IPAddress.GetAddressBytes();
        return string.Create(CultureInfo.InvariantCulture, $"{bytes[0]}.{bytes[1]}.{bytes[2]}.0");
    }

    private static async Task ReplaceByHandAsync(bool vxlan, LabNode n1, LabNode n2, Dictionary<LabNode, SubnetEnv> env)
    {
        foreach ((LabNode node, LabNode peer) in new[] { (n1, n2), (n2, n1) })
        {
            string own = NetworkOf(env[node]), remote = NetworkOf(env[peer]);
            if (vxlan)
            {
                string mac = "0e:be:00:00:00:0" + node.Index.ToString(CultureInfo.InvariantCulture);
                string peerMac = "0e:be:00:00:00:0" + peer.Index.ToString(CultureInfo.InvariantCulture);
                await node.IpAsync("link", "del", "flannel.1");
                await node.IpAsync("link", "add", "vx0", "address", mac, "type", "vxlan", "id", "2", "local", node.Address, "dev", "eth0", "dstport", "4789", "nolearning");
                await node.IpAsync("link", "set", "vx0", "mtu", "1450", "up");
                await node.IpAsync("addr", "add", own + "/32", "dev", "vx0");
                await node.IpAsync("neigh", "add", remote, "lladdr", peerMac, "dev", "vx0", "nud", "permanent");
                await node.ExecAsync("bridge", "fdb", "append", peerMac, "dev", "vx0", "dst", peer.Address, "self", "permanent");
                await node.IpAsync("route", "add", remote + "/24", "via", remote, "dev", "vx0", "onlink");
            }
            else
            {
                await node.IpAsync("route", "del", remote + "/24");
                await node.IpAsync("route", "add", remote + "/24", "via", peer.Address, "dev", "eth0");
            }
        }
    }
}
