using Flanneld.TrafficRules.Iptables;

namespace Flanneld.Tests.TrafficRules;

public class IptablesChainRulesTests
{
    [Fact]
    public void Masq_RandomFully_MatchesUpstreamV028RuleForRule()
    {
        IptablesChainRules rules = IptablesChainRules.Masq("198.18.0.0/16", "198.18.30.0/24", "224.0.0.0/4", randomFully: true);

        Assert.Equal("-A POSTROUTING -m comment --comment \"flanneld masq\" -j FLANNEL-POSTRTG", rules.Jump);
        Assert.Equal(
            [
                "-A FLANNEL-POSTRTG -m mark --mark 0x4000/0x4000 -m comment --comment \"flanneld masq\" -j RETURN",
                "-A FLANNEL-POSTRTG -s 198.18.30.0/24 -d 198.18.0.0/16 -m comment --comment \"flanneld masq\" -j RETURN",
                "-A FLANNEL-POSTRTG -s 198.18.0.0/16 -d 198.18.30.0/24 -m comment --comment \"flanneld masq\" -j RETURN",
                "-A FLANNEL-POSTRTG ! -s 198.18.0.0/16 -d 198.18.30.0/24 -m comment --comment \"flanneld masq\" -j RETURN",
                "-A FLANNEL-POSTRTG -s 198.18.0.0/16 ! -d 224.0.0.0/4 -m comment --comment \"flanneld masq\" -j MASQUERADE --random-fully",
                "-A FLANNEL-POSTRTG ! -s 198.18.0.0/16 -d 198.18.0.0/16 -m comment --comment \"flanneld masq\" -j MASQUERADE --random-fully",
            ],
            rules.Rules);
    }

    [Fact]
    public void Masq_RandomFullyOff_PlainMasquerade()
    {
        IptablesChainRules rules = IptablesChainRules.Masq("198.18.0.0/16", "198.18.30.0/24", "224.0.0.0/4", randomFully: false);

        Assert.DoesNotContain(rules.Rules, r => r.Contains("random", StringComparison.Ordinal));
        Assert.Equal(2, rules.Rules.Count(r => r.EndsWith("-j MASQUERADE", StringComparison.Ordinal)));
    }

    [Fact]
    public void Forward_Network_MatchesUpstream()
    {
        IptablesChainRules rules = IptablesChainRules.Forward("198.18.0.0/16");

        Assert.Equal("-A FORWARD -m comment --comment \"flanneld forward\" -j FLANNEL-FWD", rules.Jump);
        Assert.Equal(
            [
                "-A FLANNEL-FWD -s 198.18.0.0/16 -m comment --comment \"flanneld forward\" -j ACCEPT",
                "-A FLANNEL-FWD -d 198.18.0.0/16 -m comment --comment \"flanneld forward\" -j ACCEPT",
            ],
            rules.Rules);
    }

    [Fact]
    public void Matches_StaleRuleInChain_False()
    {
        IptablesChainRules rules = IptablesChainRules.Forward("198.18.0.0/16");
        string save = string.Join('\n', ["*filter", ":FORWARD ACCEPT [0:0]", ":FLANNEL-FWD - [0:0]", rules.Jump, .. rules.Rules,
            "-A FLANNEL-FWD -s 198.19.0.0/16 -m comment --comment \"flanneld forward\" -j ACCEPT", "COMMIT"]);

        Assert.False(IptablesTableState.Parse(save)["filter"].Matches(rules));
    }

    [Fact]
    public void Matches_ExactSet_True()
    {
        IptablesChainRules rules = IptablesChainRules.Forward("198.18.0.0/16");
        string save = string.Join('\n', ["# Generated", "*filter", ":FORWARD ACCEPT [0:0]", ":FLANNEL-FWD - [0:0]",
            "-A FORWARD -j OTHER", rules.Jump, .. rules.Rules, "COMMIT"]);

        Assert.True(IptablesTableState.Parse(save)["filter"].Matches(rules));
    }

    [Fact]
    public void Parse_ChainFilter_KeepsOnlyThoseChainsRulesButAllDeclarations()
    {
        IptablesChainRules rules = IptablesChainRules.Forward("198.18.0.0/16");
        string save = string.Join('\n', ["*filter", ":FORWARD ACCEPT [0:0]", ":KUBE-FORWARD - [0:0]", ":FLANNEL-FWD - [0:0]",
            "-A KUBE-FORWARD -j ACCEPT", "-A FORWARD -j KUBE-FORWARD", rules.Jump, .. rules.Rules, "COMMIT"]);

        IptablesTableState state = IptablesTableState.Parse(save, new HashSet<string> { "FORWARD", "FLANNEL-FWD" })["filter"];

        Assert.Equal(["-A FORWARD -j KUBE-FORWARD", rules.Jump, .. rules.Rules], state.Rules);
        Assert.Contains("KUBE-FORWARD", state.Chains);
        Assert.True(state.Matches(rules));
    }

    [Fact]
    public void Matches_DuplicateJump_False()
    {
        IptablesChainRules rules = IptablesChainRules.Forward("198.18.0.0/16");
        string save = string.Join('\n', ["*filter", ":FLANNEL-FWD - [0:0]", rules.Jump, rules.Jump, .. rules.Rules, "COMMIT"]);

        Assert.False(IptablesTableState.Parse(save)["filter"].Matches(rules));
    }

    [Fact]
    public void Install_ExistingJump_DeletesItBeforeAppending()
    {
        IptablesChainRules rules = IptablesChainRules.Forward("198.18.0.0/16");
        IptablesTableState state = IptablesTableState.Parse($"*filter\n:FLANNEL-FWD - [0:0]\n{rules.Jump}\nCOMMIT\n")["filter"];

        string payload = IptablesRestorePayload.Install(rules, state);

        Assert.Equal(
            "*filter\n:FLANNEL-FWD - [0:0]\n-D FORWARD -m comment --comment \"flanneld forward\" -j FLANNEL-FWD\n"
            + rules.Jump + "\n" + string.Join('\n', rules.Rules) + "\nCOMMIT\n",
            payload);
    }

    [Theory]
    [InlineData("iptables v1.8.9 (nf_tables)", 1, 8, 9, true, true)]
    [InlineData("iptables v1.6.1", 1, 6, 1, false, false)]
    [InlineData("ip6tables-legacy v1.6.2", 1, 6, 2, true, false)]
    [InlineData("iptables v1.8.9 (legacy)", 1, 8, 9, true, false)]
    public void IptablesVersion_TryParse_ReadsVersionRandomFullyAndBackend(string output, int major, int minor, int patch, bool randomFully, bool nfTables)
    {
        Assert.True(IptablesVersion.TryParse(output, out IptablesVersion version));
        Assert.Equal((major, minor, patch), (version.Major, version.Minor, version.Patch));
        Assert.Equal(randomFully, version.SupportsRandomFully);
        Assert.Equal(nfTables, version.NfTables);
    }
}
