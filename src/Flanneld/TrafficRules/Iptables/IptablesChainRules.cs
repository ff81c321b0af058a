namespace Flanneld.TrafficRules.Iptables;

/// <summary>
/// One of flannel's two iptables rule sets as <c>iptables-save</c> prints it: a chain of its own
/// (<c>FLANNEL-POSTRTG</c> in nat, <c>FLANNEL-FWD</c> in filter), its rules in order, and the jump to it from a
/// built-in chain. Every rule carries the set's comment, which is how leftovers are recognised.
/// </summary>
public sealed record IptablesChainRules(string Table, string HookChain, string Chain, string Comment, IReadOnlyList<string> Rules)
{
    public const string MasqChain = "FLANNEL-POSTRTG";
    public const string ForwardChain = "FLANNEL-FWD";
    public const string MasqComment = "flanneld masq";
    public const string ForwardComment = "flanneld forward";

    /// <summary>The kube-proxy masquerade mark: traffic kube-proxy will masquerade is left alone (no double NAT).</summary>
    public const string KubeProxyMark = "0x4000/0x4000";

    /// <summary>The jump from the built-in chain, appended as upstream does.</summary>
    public string Jump => $"-A {HookChain} {CommentMatch} -j {Chain}";

    private string CommentMatch => CommentMatchFor(Comment);

    /// <summary>upstream v0.28's FLANNEL-POSTRTG, rule for rule.</summary>
    public static IptablesChainRules Masq(string network, string podCidr, string multicastCidr, bool randomFully)
    {
        string c = CommentMatchFor(MasqComment);
        string masquerade = randomFully ? "MASQUERADE --random-fully" : "MASQUERADE";
        return new IptablesChainRules("nat", "POSTROUTING", MasqChain, MasqComment,
        [
            $"-A {MasqChain} -m mark --mark {KubeProxyMark} {c} -j RETURN",
            $"-A {MasqChain} -s {podCidr} -d {network} {c} -j RETURN",
            $"-A {MasqChain} -s {network} -d {podCidr} {c} -j RETURN",
            $"-A {MasqChain} ! -s {network} -d {podCidr} {c} -j RETURN",
            $"-A {MasqChain} -s {network} ! -d {multicastCidr} {c} -j {masquerade}",
            $"-A {MasqChain} ! -s {network} -d {network} {c} -j {masquerade}",
        ]);
    }

    /// <summary>FLANNEL-FWD: accept anything to or from the flannel network (Docker's FORWARD DROP).</summary>
    public static IptablesChainRules Forward(string network)
    {
        string c = CommentMatchFor(ForwardComment);
        return new IptablesChainRules("filter", "FORWARD", ForwardChain, ForwardComment,
        [
            $"-A {ForwardChain} -s {network} {c} -j ACCEPT",
            $"-A {ForwardChain} -d {network} {c} -j ACCEPT",
        ]);
    }

    /// <summary>Both sets with no rules: what to look for when removing them.</summary>
    public static IReadOnlyList<IptablesChainRules> AllEmpty { get; } =
    [
        new("nat", "POSTROUTING", MasqChain, MasqComment, []),
        new("filter", "FORWARD", ForwardChain, ForwardComment, []),
    ];

    /// <summary>True when a line of the hook chain is one of ours (the jump, or a rule an older flannel put there).</summary>
    public bool IsOursInHook(string line) =>
        line.StartsWith($"-A {HookChain} ", StringComparison.Ordinal) && line.Contains(CommentMatch, StringComparison.Ordinal);

    private static string CommentMatchFor(string comment) => $"-m comment --comment \"{comment}\"";
}
