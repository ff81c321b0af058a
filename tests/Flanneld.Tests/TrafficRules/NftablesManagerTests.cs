using Flannel.Core.Net;
using Flanneld.TrafficRules;
using Flanneld.TrafficRules.Iptables;
using Flanneld.TrafficRules.Nftables;
using Microsoft.Extensions.Logging.Abstractions;

namespace Flanneld.Tests.TrafficRules;

/// <summary>nftables mode against the real nft binary, inside a namespace per test.</summary>
public sealed class NftablesManagerTests : IDisposable
{
    private static readonly Ip4Net Network = Ip4Net.Parse("198.18.0.0/16");
    private static readonly Ip4Net Lease = Ip4Net.Parse("198.18.30.0/24");
    private static readonly Ip6Net Network6 = Ip6Net.Parse("2001:db8:42::/56");
    private static readonly Ip6Net Lease6 = Ip6Net.Parse("2001:db8:42:1::/64");

    private readonly TestNetns _ns = new("nft");
    private readonly NftablesManager _manager;

    public NftablesManagerTests()
    {
        _manager = new NftablesManager(_ns.Runner, randomFullyDisabled: false, NullLogger.Instance);
    }

    public void Dispose()
    {
        _manager.Dispose();
        _ns.Dispose();
    }

    /// <summary>upstream e2e/rules.go expectedNftPostrouting (its IPv6 twin uses ip6 and ff00::/8).</summary>
    public static string ExpectedPostrouting(string family, string table, string network, string podCidr, string multicast) => string.Join('\n',
        $"table {family} {table} {{",
        "\tchain postrtg {",
        "\t\tcomment \"chain to manage traffic masquerading by flannel\"",
        "\t\ttype nat hook postrouting priority srcnat; policy accept;",
        "\t\tmeta mark 0x00004000 return",
        $"\t\t{family} saddr {podCidr} {family} daddr {network} return",
        $"\t\t{family} saddr {network} {family} daddr {podCidr} return",
        $"\t\t{family} saddr != {podCidr} {family} daddr {network} return",
        $"\t\t{family} saddr {network} {family} daddr != {multicast} masquerade fully-random",
        $"\t\t{family} saddr != {network} {family} daddr {network} masquerade fully-random",
        "\t}",
        "}");

    /// <summary>upstream e2e/rules.go expectedNftForward.</summary>
    public static string ExpectedForward(string family, string table, string network) => string.Join('\n',
        $"table {family} {table} {{",
        "\tchain forward {",
        "\t\tcomment \"chain to accept flannel traffic\"",
        "\t\ttype filter hook forward priority filter; policy accept;",
        $"\t\t{family} saddr {network} accept",
        $"\t\t{family} daddr {network} accept",
        "\t}",
        "}");

    private string ListChain(string family, string table, string chain) => _ns.Exec("nft", "list", "chain", family, table, chain).TrimEnd('\n');

    [Fact]
    public async Task SetupAndEnsure_V4_MatchesUpstreamGolden()
    {
        await _manager.SetupAndEnsureMasqRulesAsync(Network, Lease, null, null, CancellationToken.None);
        await _manager.SetupAndEnsureForwardRulesAsync(Network, CancellationToken.None);

        Assert.Equal(ExpectedPostrouting("ip", "flannel-ipv4", "198.18.0.0/16", "198.18.30.0/24", "224.0.0.0/4"), ListChain("ip", "flannel-ipv4", "postrtg"));
        Assert.Equal(ExpectedForward("ip", "flannel-ipv4", "198.18.0.0/16"), ListChain("ip", "flannel-ipv4", "forward"));
    }

    [Fact]
    public async Task SetupAndEnsure_V6_MatchesUpstreamGolden()
    {
        await _manager.SetupAndEnsureMasqRulesAsync(Network6, Lease6, null, null, CancellationToken.None);
        await _manager.SetupAndEnsureForwardRulesAsync(Network6, CancellationToken.None);

        Assert.Equal(ExpectedPostrouting("ip6", "flannel-ipv6", "2001:db8:42::/56", "2001:db8:42:1::/64", "ff00::/8"), ListChain("ip6", "flannel-ipv6", "postrtg"));
        Assert.Equal(ExpectedForward("ip6", "flannel-ipv6", "2001:db8:42::/56"), ListChain("ip6", "flannel-ipv6", "forward"));
        Assert.DoesNotContain("flannel-ipv4", _ns.Exec("nft", "list", "tables"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task SetupAndEnsureMasqRules_RandomFullyDisabled_PlainMasquerade()
    {
        using var manager = new NftablesManager(_ns.Runner, randomFullyDisabled: true, NullLogger.Instance);

        await manager.SetupAndEnsureMasqRulesAsync(Network, Lease, null, null, CancellationToken.None);

        string chain = ListChain("ip", "flannel-ipv4", "postrtg");
        Assert.DoesNotContain("fully-random", chain, StringComparison.Ordinal);
        Assert.Contains("ip saddr 198.18.0.0/16 ip daddr != 224.0.0.0/4 masquerade\n", chain, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ResyncOnce_NothingChanged_OneListPerFamilyNoWrite()
    {
        await _manager.SetupAndEnsureMasqRulesAsync(Network, Lease, null, null, CancellationToken.None);
        await _manager.SetupAndEnsureForwardRulesAsync(Network, CancellationToken.None);
        await _manager.SetupAndEnsureMasqRulesAsync(Network6, Lease6, null, null, CancellationToken.None);
        int before = _ns.Runner.Calls;

        Assert.False(await _manager.ResyncOnceAsync(CancellationToken.None));

        Assert.Equal(2, _ns.Runner.Calls - before);
    }

    [Fact]
    public async Task ResyncOnce_RuleDeleted_Restored()
    {
        await _manager.SetupAndEnsureMasqRulesAsync(Network, Lease, null, null, CancellationToken.None);
        await _manager.SetupAndEnsureForwardRulesAsync(Network, CancellationToken.None);
        string handle = _ns.Exec("nft", "-a", "list", "chain", "ip", "flannel-ipv4", "postrtg")
            .Split('\n').First(l => l.Contains("meta mark", StringComparison.Ordinal)).Split("# handle ")[1].Trim();
        _ns.Exec("nft", "delete", "rule", "ip", "flannel-ipv4", "postrtg", "handle", handle);
        _ns.Exec("nft", "delete", "chain", "ip", "flannel-ipv4", "forward");

        Assert.True(await _manager.ResyncOnceAsync(CancellationToken.None));

        Assert.Equal(ExpectedPostrouting("ip", "flannel-ipv4", "198.18.0.0/16", "198.18.30.0/24", "224.0.0.0/4"), ListChain("ip", "flannel-ipv4", "postrtg"));
        Assert.Equal(ExpectedForward("ip", "flannel-ipv4", "198.18.0.0/16"), ListChain("ip", "flannel-ipv4", "forward"));
        Assert.False(await _manager.ResyncOnceAsync(CancellationToken.None));
    }

    [Fact]
    public async Task ResyncOnce_TableDeleted_Recreated()
    {
        await _manager.SetupAndEnsureMasqRulesAsync(Network, Lease, null, null, CancellationToken.None);
        _ns.Exec("nft", "delete", "table", "ip", "flannel-ipv4");

        Assert.True(await _manager.ResyncOnceAsync(CancellationToken.None));

        Assert.Equal(ExpectedPostrouting("ip", "flannel-ipv4", "198.18.0.0/16", "198.18.30.0/24", "224.0.0.0/4"), ListChain("ip", "flannel-ipv4", "postrtg"));
    }

    [Fact]
    public async Task SetupAndEnsureMasqRules_PreviousSubnet_StaleRulesRemoved()
    {
        using (var old = new NftablesManager(_ns.Runner, randomFullyDisabled: false, NullLogger.Instance))
        {
            await old.SetupAndEnsureMasqRulesAsync(Ip4Net.Parse("198.19.0.0/16"), Ip4Net.Parse("198.19.7.0/24"), null, null, CancellationToken.None);
            await old.SetupAndEnsureForwardRulesAsync(Ip4Net.Parse("198.19.0.0/16"), CancellationToken.None);
        }

        await _manager.SetupAndEnsureMasqRulesAsync(Network, Lease, Ip4Net.Parse("198.19.0.0/16"), Ip4Net.Parse("198.19.7.0/24"), CancellationToken.None);

        Assert.Equal(ExpectedPostrouting("ip", "flannel-ipv4", "198.18.0.0/16", "198.18.30.0/24", "224.0.0.0/4"), ListChain("ip", "flannel-ipv4", "postrtg"));
        Assert.DoesNotContain("198.19.", _ns.Exec("nft", "list", "ruleset"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task CleanUpOtherMode_IptablesChainsPresent_RemovesChainsAndJumps()
    {
        using (var ipt = new IptablesManager(_ns.Runner, randomFullyDisabled: false, NullLogger.Instance))
        {
            await ipt.SetupAndEnsureMasqRulesAsync(Network, Lease, null, null, CancellationToken.None);
            await ipt.SetupAndEnsureForwardRulesAsync(Network, CancellationToken.None);
            await ipt.SetupAndEnsureMasqRulesAsync(Network6, Lease6, null, null, CancellationToken.None);
        }

        _ns.Exec("iptables", "-t", "nat", "-A", "POSTROUTING", "-s", "198.18.9.0/24", "-j", "RETURN");

        await _manager.CleanUpOtherModeAsync(CancellationToken.None);

        Assert.DoesNotContain("flanneld", _ns.Exec("iptables-save"), StringComparison.Ordinal);
        Assert.DoesNotContain("FLANNEL", _ns.Exec("iptables-save"), StringComparison.Ordinal);
        Assert.DoesNotContain("FLANNEL", _ns.Exec("ip6tables-save"), StringComparison.Ordinal);
        Assert.Contains("-A POSTROUTING -s 198.18.9.0/24 -j RETURN", _ns.Exec("iptables-save", "-t", "nat"), StringComparison.Ordinal);
    }

    [Fact]
    public void Script_MasqAndForward_OneTransactionReplacingTheTable()
    {
        var table = new NftTable(new FamilyRules(IpFamily.V4) { MasqNetwork = "198.18.0.0/16", MasqPodCidr = "198.18.30.0/24", ForwardNetwork = "198.18.0.0/16" }, randomFully: true);

        string[] lines = table.Script().Split('\n', StringSplitOptions.RemoveEmptyEntries);

        Assert.Equal("add table ip flannel-ipv4 { comment \"rules for flannel-ipv4\" ; }", lines[0]);
        Assert.Equal("delete table ip flannel-ipv4", lines[1]);
        Assert.Equal("add chain ip flannel-ipv4 postrtg { type nat hook postrouting priority srcnat ; comment \"chain to manage traffic masquerading by flannel\" ; }", lines[3]);
        Assert.Equal("add rule ip flannel-ipv4 postrtg meta mark 0x4000 return", lines[4]);
        Assert.Equal("add rule ip flannel-ipv4 forward ip daddr 198.18.0.0/16 accept", lines[^1]);
    }
}
