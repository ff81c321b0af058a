using System.Text.RegularExpressions;
using Flannel.Lab;

namespace Flannel.Reliability.Tests;

/// <summary>
/// Case 5: garbage and hostile leases written into the store of a running vxlan cluster. Each bad entry is skipped
/// with one warning naming its key, the daemons keep running, the valid peers' entries and pods' pings are unchanged,
/// and nothing of the bad entries reaches the kernel.
/// </summary>
public sealed partial class StoreGarbageTests
{
    private static string Vxlan(string publicIp, string mac) =>
        $$$"""{"PublicIP":"{{{publicIp}}}","PublicIPv6":null,"BackendType":"vxlan","BackendData":{"VNI":1,"VtepMAC":"{{{mac}}}"}}""";

    /// <summary>Bad entries whose value is otherwise a plausible lease: what the kernel must never see from them.</summary>
    private static readonly (string Key, string Value, string Marker)[] Hostile =
    [
        ("198.18.200.0-24", Vxlan("0.0.0.0", "0a:58:00:00:c8:00"), "0a:58:00:00:c8:00"),
        ("198.18.201.0-24", Vxlan("224.0.0.5", "0a:58:00:00:c9:00"), "0a:58:00:00:c9:00"),
        ("198.18.202.0-24", Vxlan("198.19.202.1", "01:00:5e:00:00:01"), "198.19.202.1"),
        ("198.18.203.0-24", Vxlan("198.19.203.1", "ff:ff:ff:ff:ff:ff"), "198.19.203.1"),
        ("198.18.204.0-24", Vxlan("198.19.204.1", "00:00:00:00:00:00"), "198.19.204.1"),
        ("203.0.113.0-24", Vxlan("198.19.205.1", "0a:58:00:00:cd:00"), "198.19.205.1"),
        ("198.18.208.0-24", Vxlan("255.255.255.255", "0a:58:00:00:d0:00"), "0a:58:00:00:d0:00"),
        ("198.18.209.0-24", """{"PublicIP":"198.19.209.1","BackendType":"vxlan","BackendData":{"VNI":1,"VtepMAC":"not-a-mac"}}""", "198.19.209.1"),
    ];

    private static readonly (string Key, string Value)[] Junk =
    [
        ("zzz", "{}"),
        ("198.18.210.0-24/deeper", Vxlan("198.19.210.1", "0a:58:00:00:d2:00")),
        ("198.18.211.0-24", "\u0001\u0002\u00ff garbage \u20ac"),
        ("198.18.212.0-24", "[1,2,3]"),
        ("198.18.213.0-24", """{"PublicIP":12}"""),
        ("198.18.214.0-33", Vxlan("198.19.214.1", "0a:58:00:00:d6:00")),
        ("300.18.215.0-24", Vxlan("198.19.215.1", "0a:58:00:00:d7:00")),
    ];

    [Fact]
    public async Task GarbageAndHostileLeases_EachSkippedOnce_DataPathUnchanged_NothingInKernel()
    {
        await using TwoNodeVxlan lab = await TwoNodeVxlan.StartAsync();
        await CheckSkippedAsync(lab, Hostile, Junk);
    }

    /// <summary>
    /// Leases whose subnet overlaps another node's (a /25 inside node 2's /24, and the whole network as one /16).
    /// Found: they are programmed (route 198.18.0.0/16 and the /25 via flannel.1 on every node).
    /// </summary>
    [Fact]
    public async Task OverlappingSubnetLeases_SkippedWithOneWarning_NothingInKernel()
    {
        await using TwoNodeVxlan lab = await TwoNodeVxlan.StartAsync();
        string n2 = lab.Env[lab.Cluster.Nodes[1]].Subnet!.Value.ToString();
        string inside = n2[..n2.LastIndexOf('.')] + ".128-25";
        (string, string, string)[] overlapping =
        [
            ("198.18.0.0-16", Vxlan("198.19.206.1", "0a:58:00:00:ce:00"), "198.19.206.1"),
            (inside, Vxlan("198.19.207.1", "0a:58:00:00:cf:00"), "198.19.207.1"),
        ];
        await CheckSkippedAsync(lab, overlapping, []);
    }

    private static async Task CheckSkippedAsync(TwoNodeVxlan lab, (string Key, string Value, string Marker)[] hostile, (string Key, string Value)[] junk)
    {
        LabCluster cluster = lab.Cluster;
        Assert.Empty(await lab.PingFailuresAsync(TimeSpan.FromSeconds(5)));
        var before = new Dictionary<LabNode, List<string>>();
        foreach (LabNode node in cluster.Nodes)
        {
            before[node] = await TwoNodeVxlan.FlannelEntriesAsync(node);
        }

        var bad = hostile.Select(h => (h.Key, h.Value)).Concat(junk).ToList();
        foreach ((string key, string value) in bad)
        {
            await cluster.EtcdCtlAsync("put", Lab.SubnetsPrefix + key, value);
        }

        // A valid peer written after the garbage is programmed: the watch is still alive.
        string canaryValue = Vxlan("198.19.220.1", "0a:58:00:00:dc:00");
        await cluster.EtcdCtlAsync("put", Lab.SubnetsPrefix + "198.18.220.0-24", canaryValue);
        foreach (LabNode node in cluster.Nodes)
        {
            Assert.True(await KernelView.EventuallyAsync(async () => (await KernelView.RoutesAsync(node)).Any(r => r.Dst == "198.18.220.0/24"), TimeSpan.FromSeconds(10)),
                $"{node.Name} stopped programming peers after the garbage:\n{node.Flanneld!.ReadLog()}");
        }

        await cluster.EtcdCtlAsync("del", Lab.SubnetsPrefix + "198.18.220.0-24");
        foreach (LabNode node in cluster.Nodes)
        {
            Assert.True(await KernelView.EventuallyAsync(async () => (await TwoNodeVxlan.FlannelEntriesAsync(node)).SequenceEqual(before[node]), TimeSpan.FromSeconds(10)),
                $"{node.Name}'s flannel.1 entries differ from before the garbage:\nbefore: {string.Join("; ", before[node])}\nafter: {string.Join("; ", await TwoNodeVxlan.FlannelEntriesAsync(node))}");
            string kernel = await node.IpAsync("route") + await node.IpAsync("neigh", "show", "dev", "flannel.1") + await node.ExecAsync("bridge", "fdb", "show", "dev", "flannel.1");
            foreach ((string key, _, string marker) in hostile)
            {
                Assert.DoesNotContain(marker, kernel, StringComparison.Ordinal);
                Assert.DoesNotContain(key.Replace('-', '/'), kernel, StringComparison.Ordinal);
            }

            Assert.False(node.Flanneld!.HasExited, $"{node.Name} exited:\n{node.Flanneld.ReadLog()}");
            string log = node.Flanneld.ReadLog();
            foreach ((string key, _) in bad)
            {
                int warnings = WarningLines(log).Count(l => l.Contains(key, StringComparison.Ordinal));
                Assert.True(warnings == 1, $"{node.Name}: {warnings} warnings naming {key} (want exactly 1):\n{log}");
            }
        }

        Assert.Empty(await lab.PingFailuresAsync(TimeSpan.FromSeconds(5)));
    }

    private static IEnumerable<string> WarningLines(string log) => log.Split('\n').Where(l => WarnPattern().IsMatch(l));

    [GeneratedRegex(@"^\S+ warn: ")]
    private static partial Regex WarnPattern();
}
