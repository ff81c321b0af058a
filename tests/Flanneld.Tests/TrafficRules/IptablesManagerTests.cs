using Flannel.Core.Net;
using Flanneld.TrafficRules;
using Flanneld.TrafficRules.Iptables;
using Microsoft.Extensions.Logging.Abstractions;

namespace Flanneld.Tests.TrafficRules;

/// <summary>iptables mode against the real binaries, inside a namespace per test.</summary>
public sealed class IptablesManagerTests : IDisposable
{
    private static readonly Ip4Net Network = Ip4Net.Parse("198.18.0.0/16");
    private static readonly Ip4Net Lease = Ip4Net.Parse("198.18.30.0/24");
    private static readonly Ip6Net Network6 = Ip6Net.Parse("2001:db8:42::/56");
    private static readonly Ip6Net Lease6 = Ip6Net.Parse("2001:db8:42:1::/64");

    private readonly TestNetns _ns = new("ipt");
    private readonly IptablesManager _manager;

    public IptablesManagerTests()
    {
        _manager = new IptablesManager(_ns.Runner, randomFullyDisabled: false, NullLogger.Instance);
    }

    public void Dispose()
    {
        _manager.Dispose();
        _ns.Dispose();
    }

    /// <summary>upstream e2e/rules.go expectedIptablesPostrouting, for IPv4 or IPv6.</summary>
    public static string ExpectedPostrouting(string network, string podCidr, string multicast) => string.Join('\n',
        "-A POSTROUTING -m comment --comment \"flanneld masq\" -j FLANNEL-POSTRTG",
        "-N FLANNEL-POSTRTG",
        "-A FLANNEL-POSTRTG -m mark --mark 0x4000/0x4000 -m comment --comment \"flanneld masq\" -j RETURN",
        $"-A FLANNEL-POSTRTG -s {podCidr} -d {network} -m comment --comment \"flanneld masq\" -j RETURN",
        $"-A FLANNEL-POSTRTG -s {network} -d {podCidr} -m comment --comment \"flanneld masq\" -j RETURN",
        $"-A FLANNEL-POSTRTG ! -s {network} -d {podCidr} -m comment --comment \"flanneld masq\" -j RETURN",
        $"-A FLANNEL-POSTRTG -s {network} ! -d {multicast} -m comment --comment \"flanneld masq\" -j MASQUERADE --random-fully",
        $"-A FLANNEL-POSTRTG ! -s {network} -d {network} -m comment --comment \"flanneld masq\" -j MASQUERADE --random-fully");

    /// <summary>upstream e2e/rules.go expectedIptablesForward, without the kube-proxy rules a bare node lacks.</summary>
    public static string ExpectedForward(string network) => string.Join('\n',
        "-P FORWARD ACCEPT",
        "-A FORWARD -m comment --comment \"flanneld forward\" -j FLANNEL-FWD",
        "-N FLANNEL-FWD",
        $"-A FLANNEL-FWD -s {network} -m comment --comment \"flanneld forward\" -j ACCEPT",
        $"-A FLANNEL-FWD -d {network} -m comment --comment \"flanneld forward\" -j ACCEPT");

    /// <summary>What upstream's e2e reads: the FLANNEL lines of POSTROUTING, then the chain.</summary>
    public static string NatFlannel(TestNetns ns, string iptables = "iptables")
    {
        IEnumerable<string> post = Lines(ns.Exec(iptables, "-t", "nat", "-S", "POSTROUTING")).Where(static l => l.Contains("FLANNEL", StringComparison.Ordinal));
        return string.Join('\n', post.Concat(Lines(ns.Exec(iptables, "-t", "nat", "-S", "FLANNEL-POSTRTG"))));
    }

    public static string FilterForward(TestNetns ns, string iptables = "iptables") =>
        string.Join('\n', Lines(ns.Exec(iptables, "-t", "filter", "-S", "FORWARD")).Concat(Lines(ns.Exec(iptables, "-t", "filter", "-S", "FLANNEL-FWD"))));

    [Fact]
    public async Task SetupAndEnsureMasqRules_V4_MatchesUpstreamGolden()
    {
        await _manager.SetupAndEnsureMasqRulesAsync(Network, Lease, null, null, CancellationToken.None);

        Assert.Equal(ExpectedPostrouting("198.18.0.0/16", "198.18.30.0/24", "224.0.0.0/4"), NatFlannel(_ns));
    }

    [Fact]
    public async Task SetupAndEnsureForwardRules_V4_MatchesUpstreamGolden()
    {
        await _manager.SetupAndEnsureForwardRulesAsync(Network, CancellationToken.None);

        Assert.Equal(ExpectedForward("198.18.0.0/16"), FilterForward(_ns));
    }

    [Fact]
    public async Task SetupAndEnsure_V6_MatchesUpstreamGoldenWithIp6tables()
    {
        await _manager.SetupAndEnsureMasqRulesAsync(Network6, Lease6, null, null, CancellationToken.None);
        await _manager.SetupAndEnsureForwardRulesAsync(Network6, CancellationToken.None);

        Assert.Equal(ExpectedPostrouting("2001:db8:42::/56", "2001:db8:42:1::/64", "ff00::/8"), NatFlannel(_ns, "ip6tables"));
        Assert.Equal(ExpectedForward("2001:db8:42::/56"), FilterForward(_ns, "ip6tables"));
        Assert.DoesNotContain("FLANNEL", _ns.Exec("iptables-save"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task SetupAndEnsureMasqRules_RandomFullyDisabled_PlainMasquerade()
    {
        using var manager = new IptablesManager(_ns.Runner, randomFullyDisabled: true, NullLogger.Instance);

        await manager.SetupAndEnsureMasqRulesAsync(Network, Lease, null, null, CancellationToken.None);

        string rules = NatFlannel(_ns);
        Assert.DoesNotContain("--random-fully", rules, StringComparison.Ordinal);
        Assert.Contains("-s 198.18.0.0/16 ! -d 224.0.0.0/4 -m comment --comment \"flanneld masq\" -j MASQUERADE", rules, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ResyncOnce_NothingChanged_ListsFourChainsWritesNothing()
    {
        await _manager.SetupAndEnsureMasqRulesAsync(Network, Lease, null, null, CancellationToken.None);
        await _manager.SetupAndEnsureForwardRulesAsync(Network, CancellationToken.None);
        int before = _ns.Runner.Calls;

        bool repaired = await _manager.ResyncOnceAsync(CancellationToken.None);

        Assert.False(repaired);
        Assert.Equal(["iptables", "iptables", "iptables", "iptables"], _ns.Runner.Programs.Skip(before));
    }

    [Fact]
    public async Task ResyncOnce_RuleDeleted_RestoresWholeSetInOrder()
    {
        await _manager.SetupAndEnsureMasqRulesAsync(Network, Lease, null, null, CancellationToken.None);
        await _manager.SetupAndEnsureForwardRulesAsync(Network, CancellationToken.None);
        _ns.Exec("iptables", "-t", "nat", "-D", "FLANNEL-POSTRTG", "3");
        _ns.Exec("iptables", "-t", "filter", "-D", "FORWARD", "-m", "comment", "--comment", "flanneld forward", "-j", "FLANNEL-FWD");

        bool repaired = await _manager.ResyncOnceAsync(CancellationToken.None);

        Assert.True(repaired);
        Assert.Equal(ExpectedPostrouting("198.18.0.0/16", "198.18.30.0/24", "224.0.0.0/4"), NatFlannel(_ns));
        Assert.Equal(ExpectedForward("198.18.0.0/16"), FilterForward(_ns));
        Assert.False(await _manager.ResyncOnceAsync(CancellationToken.None));
    }

    [Fact]
    public async Task ResyncOnce_ChainDeleted_Recreated()
    {
        await _manager.SetupAndEnsureForwardRulesAsync(Network, CancellationToken.None);
        _ns.Exec("iptables", "-t", "filter", "-D", "FORWARD", "-m", "comment", "--comment", "flanneld forward", "-j", "FLANNEL-FWD");
        _ns.Exec("iptables", "-t", "filter", "-F", "FLANNEL-FWD");
        _ns.Exec("iptables", "-t", "filter", "-X", "FLANNEL-FWD");

        Assert.True(await _manager.ResyncOnceAsync(CancellationToken.None));

        Assert.Equal(ExpectedForward("198.18.0.0/16"), FilterForward(_ns));
    }

    [Fact]
    public async Task RunAsync_RuleDeleted_RepairedWithinOnePeriod()
    {
        await _manager.SetupAndEnsureMasqRulesAsync(Network, Lease, null, null, CancellationToken.None);
        using var stop = new CancellationTokenSource();
        Task loop = _manager.RunAsync(TimeSpan.FromMilliseconds(200), stop.Token);
        _ns.Exec("iptables", "-t", "nat", "-D", "FLANNEL-POSTRTG", "1");

        DateTime deadline = DateTime.UtcNow.AddSeconds(5);
        while (NatFlannel(_ns) != ExpectedPostrouting("198.18.0.0/16", "198.18.30.0/24", "224.0.0.0/4") && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50);
        }

        await stop.CancelAsync();
        await loop;
        Assert.Equal(ExpectedPostrouting("198.18.0.0/16", "198.18.30.0/24", "224.0.0.0/4"), NatFlannel(_ns));
    }

    [Fact]
    public async Task SetupAndEnsureMasqRules_PreviousSubnet_StaleRulesRemoved()
    {
        using (var old = new IptablesManager(_ns.Runner, randomFullyDisabled: false, NullLogger.Instance))
        {
            await old.SetupAndEnsureMasqRulesAsync(Ip4Net.Parse("198.19.0.0/16"), Ip4Net.Parse("198.19.7.0/24"), null, null, CancellationToken.None);
        }

        // An older flannel also put rules straight into POSTROUTING with the same comment.
        _ns.Exec("iptables", "-t", "nat", "-A", "POSTROUTING", "-s", "198.19.0.0/16", "-d", "198.19.0.0/16", "-m", "comment", "--comment", "flanneld masq", "-j", "RETURN");

        await _manager.SetupAndEnsureMasqRulesAsync(Network, Lease, Ip4Net.Parse("198.19.0.0/16"), Ip4Net.Parse("198.19.7.0/24"), CancellationToken.None);

        Assert.Equal(ExpectedPostrouting("198.18.0.0/16", "198.18.30.0/24", "224.0.0.0/4"), NatFlannel(_ns));
        Assert.DoesNotContain("198.19.", _ns.Exec("iptables-save", "-t", "nat"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task SetupAndEnsure_OtherRulesInHookChains_LeftAlone()
    {
        _ns.Exec("iptables", "-t", "nat", "-A", "POSTROUTING", "-s", "198.18.9.0/24", "-j", "RETURN");
        _ns.Exec("iptables", "-t", "filter", "-A", "FORWARD", "-i", "lo", "-j", "ACCEPT");

        await _manager.SetupAndEnsureMasqRulesAsync(Network, Lease, null, null, CancellationToken.None);
        await _manager.SetupAndEnsureForwardRulesAsync(Network, CancellationToken.None);
        await _manager.ResyncOnceAsync(CancellationToken.None);

        Assert.Contains("-A POSTROUTING -s 198.18.9.0/24 -j RETURN", _ns.Exec("iptables", "-t", "nat", "-S", "POSTROUTING"), StringComparison.Ordinal);
        Assert.Contains("-A FORWARD -i lo -j ACCEPT", _ns.Exec("iptables", "-t", "filter", "-S", "FORWARD"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task CleanUpOtherMode_NftTablesPresent_DeletesThem()
    {
        using (var nft = TrafficManagerFactory.Create(enableNFTables: true, randomFullyDisabled: false, NullLogger.Instance, runner: _ns.Runner))
        {
            await nft.SetupAndEnsureMasqRulesAsync(Network, Lease, null, null, CancellationToken.None);
            await nft.SetupAndEnsureForwardRulesAsync(Network6, CancellationToken.None);
        }

        Assert.Contains("flannel-ipv4", _ns.Exec("nft", "list", "tables"), StringComparison.Ordinal);

        await _manager.CleanUpOtherModeAsync(CancellationToken.None);

        Assert.DoesNotContain("flannel", _ns.Exec("nft", "list", "tables"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task SetupAndEnsure_LegacyBackend_MatchesUpstreamGoldenAndResyncs()
    {
        using var manager = new IptablesManager(new LegacyRunner(_ns.Runner), randomFullyDisabled: false, NullLogger.Instance);

        await manager.SetupAndEnsureMasqRulesAsync(Network, Lease, null, null, CancellationToken.None);
        await manager.SetupAndEnsureForwardRulesAsync(Network, CancellationToken.None);
        _ns.Exec("iptables-legacy", "-t", "nat", "-D", "FLANNEL-POSTRTG", "2");

        Assert.True(await manager.ResyncOnceAsync(CancellationToken.None));
        int before = _ns.Runner.Calls;
        Assert.False(await manager.ResyncOnceAsync(CancellationToken.None));
        Assert.Equal(["iptables-legacy-save"], _ns.Runner.Programs.Skip(before));
        Assert.Equal(ExpectedPostrouting("198.18.0.0/16", "198.18.30.0/24", "224.0.0.0/4"), NatFlannel(_ns, "iptables-legacy"));
        Assert.Equal(ExpectedForward("198.18.0.0/16"), FilterForward(_ns, "iptables-legacy"));
    }

    private static string[] Lines(string text) => text.Split('\n', StringSplitOptions.RemoveEmptyEntries);
}

/// <summary>Runs the xtables-legacy flavour of each iptables binary (iptables-save becomes iptables-legacy-save).</summary>
internal sealed class LegacyRunner(ICommandRunner inner) : ICommandRunner
{
    public Task<CommandResult> RunAsync(string program, IReadOnlyList<string> arguments, string? standardInput, CancellationToken cancellationToken) =>
        inner.RunAsync(program.Replace("tables", "tables-legacy", StringComparison.Ordinal), arguments, standardInput, cancellationToken);
}
