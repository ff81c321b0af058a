using System.Diagnostics;
using System.Globalization;
using Flannel.Lab;
using Xunit.Abstractions;

namespace Flannel.Reliability.Tests;

/// <summary>
/// Case 3: flanneld (vxlan) SIGKILLed while programming 2,000 peers, leases deleted and added while it is down, then
/// restarted: the kernel's routes, neighbours and FDB on flannel.1 match the leases entry for entry.
/// </summary>
public sealed class CrashDuringProgrammingTests(ITestOutputHelper output)
{
    private const int Peers = 2000;
    internal const string NetConfig = """{"Network":"198.18.0.0/16","SubnetLen":28,"Backend":{"Type":"vxlan"}}""";

    /// <summary>A simulated peer: subnet i of the /28s (skipping the first 16, left for real nodes), a unique MAC and PublicIP.</summary>
    internal static (string Key, string Value, string Subnet, string Vtep, string Mac, string PublicIp) Peer(int i)
    {
        int n = i + 16;
        string vtep = $"198.18.{n / 16}.{n % 16 * 16}";
        string mac = $"0a:58:00:00:{n >> 8:x2}:{n & 0xff:x2}";
        string publicIp = $"198.19.{n / 250}.{n % 250 + 1}";
        string value = $$$"""{"PublicIP":"{{{publicIp}}}","PublicIPv6":null,"BackendType":"vxlan","BackendData":{"VNI":1,"VtepMAC":"{{{mac}}}"}}""";
        return (Lab.SubnetsPrefix + vtep + "-28", value, vtep + "/28", vtep, mac, publicIp);
    }

    [Fact]
    public async Task Sigkill_WhileProgramming2000Peers_RestartConvergesEntryForEntry()
    {
        await using LabCluster cluster = await LabCluster.CreateAsync(new LabOptions { Nodes = 1, NetConfig = NetConfig });
        LabNode node = cluster.Nodes[0];
        await cluster.EtcdPutManyAsync(Enumerable.Range(0, Peers).Select(i => Peer(i)).Select(p => KeyValuePair.Create(p.Key, p.Value)));

        // Programming 2,000 peers takes tens of ms once the daemon is up, so one kill at a guessed instant usually lands
        // before or after it. Kill at growing delays until one finds the peers fully programmed, then sweep the window
        // just before that in small steps; each restart otherwise starts from what the last kill left behind.
        var atKill = new List<string>();
        int partialKills = 0;
        int lastEmpty = 0;
        int full = -1;
        for (int delay = 40; delay <= 2000 && full < 0; delay += 25)
        {
            int programmed = await StartAndKillAsync(node, delay, atKill);
            if (programmed >= 3 * Peers)
            {
                full = delay;
            }
            else if (programmed == 0)
            {
                lastEmpty = delay;
            }
            else
            {
                partialKills++;
            }
        }

        for (int delay = lastEmpty; full > 0 && delay < full && partialKills == 0; delay += 3)
        {
            // From an empty device again, so that a kill in the window leaves a partly programmed kernel behind.
            if (await KernelView.LinkAsync(node, "flannel.1") is not null)
            {
                await node.IpAsync("link", "del", "flannel.1");
            }

            int programmed = await StartAndKillAsync(node, delay, atKill);
            partialKills += programmed is > 0 and < 3 * Peers ? 1 : 0;
        }

        output.WriteLine($"kill -9 at (delay ms: kernel entries of {3 * Peers}): {string.Join(' ', atKill)}; {partialKills} kills mid-programming");
        Assert.True(partialKills > 0, "no kill landed while the peers were being programmed: " + string.Join(' ', atKill));

        // While it is down: 300 peers leave, 100 new ones join.
        await cluster.EtcdDeleteManyAsync(Enumerable.Range(0, 300).Select(i => Peer(i * 6).Key));
        // New peers on free /28s only: the node itself took one of them.
        var taken = (await cluster.GetLeasesAsync()).Keys.ToHashSet(StringComparer.Ordinal);
        int[] joined = Enumerable.Range(Peers, 200).Where(i => !taken.Contains(Peer(i).Key)).Take(100).ToArray();
        await cluster.EtcdPutManyAsync(joined.Select(i => Peer(i)).Select(p => KeyValuePair.Create(p.Key, p.Value)));
        var expected = Enumerable.Range(0, Peers).Where(i => i % 6 != 0 || i / 6 >= 300).Concat(joined).Select(i => Peer(i)).ToList();

        node.StartFlanneld();
        var clock = Stopwatch.StartNew();
        string? mismatch = "not checked";
        bool converged = await KernelView.EventuallyAsync(async () =>
        {
            mismatch = await MismatchAsync(node, expected);
            return mismatch is null;
        }, TimeSpan.FromSeconds(60));
        Assert.True(converged, $"kernel does not match the leases after restart: {mismatch}\n{Tail(node.Flanneld!.ReadLog())}");
        output.WriteLine($"restart converged to {expected.Count} peers in {clock.ElapsedMilliseconds} ms");
        Assert.False(node.Flanneld!.HasExited, node.Flanneld.ReadLog());
    }

    /// <summary>Starts flanneld, SIGKILLs it after <paramref name="delayMs"/>, and returns the flannel.1 entries it left.</summary>
    private static async Task<int> StartAndKillAsync(LabNode node, int delayMs, List<string> record)
    {
        node.StartFlanneld();
        await Task.Delay(delayMs);
        await node.Flanneld!.Kill9Async();
        int entries = (await TwoNodeVxlan.FlannelEntriesAsync(node)).Count;
        record.Add(string.Create(CultureInfo.InvariantCulture, $"{delayMs}:{entries}"));
        return entries;
    }

    internal static async Task<string?> MismatchAsync(LabNode node, List<(string Key, string Value, string Subnet, string Vtep, string Mac, string PublicIp)> expected)
    {
        var routes = (await KernelView.RoutesAsync(node)).Where(r => r.Dev == "flannel.1").Select(r => $"{r.Dst} via {r.Gateway}").ToHashSet(StringComparer.Ordinal);
        var neighbours = (await KernelView.NeighboursAsync(node, "flannel.1")).Select(n => $"{n.Address} {n.Mac}").ToHashSet(StringComparer.Ordinal);
        var fdb = (await KernelView.FdbAsync(node, "flannel.1")).Select(f => $"{f.Mac} {f.Dst}").ToHashSet(StringComparer.Ordinal);
        return Diff("route", routes, expected.Select(p => $"{p.Subnet} via {p.Vtep}"))
            ?? Diff("neighbour", neighbours, expected.Select(p => $"{p.Vtep} {p.Mac}"))
            ?? Diff("fdb", fdb, expected.Select(p => $"{p.Mac} {p.PublicIp}"));
    }

    private static string? Diff(string what, HashSet<string> actual, IEnumerable<string> expected)
    {
        var want = expected.ToHashSet(StringComparer.Ordinal);
        var missing = want.Except(actual).ToList();
        var stale = actual.Except(want).ToList();
        return missing.Count == 0 && stale.Count == 0
            ? null
            : string.Create(CultureInfo.InvariantCulture, $"{what}: {missing.Count} missing (e.g. {missing.FirstOrDefault()}), {stale.Count} stale (e.g. {stale.FirstOrDefault()})");
    }

    private static string Tail(string log) => log.Length > 4000 ? log[^4000..] : log;
}
