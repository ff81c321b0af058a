using System.Text;

namespace Flanneld.TrafficRules.Nftables;

/// <summary>
/// flannel's nftables table for one family (<c>ip flannel-ipv4</c> / <c>ip6 flannel-ipv6</c>) with the chains
/// <c>postrtg</c> and <c>forward</c> as upstream v0.28 writes them: the script that installs it, and the listing
/// <c>nft list table</c> prints once it is installed.
/// </summary>
public sealed class NftTable
{
    public const string PostrtgChain = "postrtg";
    public const string ForwardChain = "forward";
    public const string PostrtgComment = "chain to manage traffic masquerading by flannel";
    public const string ForwardComment = "chain to accept flannel traffic";

    private readonly FamilyRules _rules;
    private readonly bool _randomFully;

    public NftTable(FamilyRules rules, bool randomFully)
    {
        _rules = rules;
        _randomFully = randomFully;
    }

    /// <summary><c>ip</c> or <c>ip6</c>: both the table family and the address match keyword.</summary>
    public string Family => FamilyOf(_rules.Family);

    public string Name => NameOf(_rules.Family);

    public string TableComment => $"rules for {Name}";

    public static string FamilyOf(IpFamily family) => family == IpFamily.V4 ? "ip" : "ip6";

    public static string NameOf(IpFamily family) => family == IpFamily.V4 ? "flannel-ipv4" : "flannel-ipv6";

    /// <summary>
    /// Commands for one <c>nft -f -</c> transaction that replace the table whole: adding it first makes the delete
    /// valid when it is missing, and the rebuilt table drops anything stale (an old network's or subnet's rules).
    /// </summary>
    public string Script()
    {
        var script = new StringBuilder();
        string table = $"{Family} {Name}";
        string tableLine = $"add table {table} {{ comment \"{TableComment}\" ; }}\n";
        script.Append(tableLine).Append("delete table ").Append(table).Append('\n').Append(tableLine);
        if (_rules.HasMasq)
        {
            script.Append("add chain ").Append(table).Append(' ').Append(PostrtgChain)
                .Append(" { type nat hook postrouting priority srcnat ; comment \"").Append(PostrtgComment).Append("\" ; }\n");
            foreach (string rule in MasqRules(listed: false))
            {
                script.Append("add rule ").Append(table).Append(' ').Append(PostrtgChain).Append(' ').Append(rule).Append('\n');
            }
        }

        if (_rules.HasForward)
        {
            script.Append("add chain ").Append(table).Append(' ').Append(ForwardChain)
                .Append(" { type filter hook forward priority filter ; comment \"").Append(ForwardComment).Append("\" ; }\n");
            foreach (string rule in ForwardRules())
            {
                script.Append("add rule ").Append(table).Append(' ').Append(ForwardChain).Append(' ').Append(rule).Append('\n');
            }
        }

        return script.ToString();
    }

    /// <summary>What <c>nft list table</c> prints for the installed table, as <see cref="Normalize"/> reduces it.</summary>
    public IReadOnlyList<string> ExpectedListing()
    {
        var lines = new List<string> { $"table {Family} {Name} {{", $"comment \"{TableComment}\"" };
        if (_rules.HasMasq)
        {
            lines.Add($"chain {PostrtgChain} {{");
            lines.Add($"comment \"{PostrtgComment}\"");
            lines.Add("type nat hook postrouting priority srcnat; policy accept;");
            lines.AddRange(MasqRules(listed: true));
            lines.Add("}");
        }

        if (_rules.HasForward)
        {
            lines.Add($"chain {ForwardChain} {{");
            lines.Add($"comment \"{ForwardComment}\"");
            lines.Add("type filter hook forward priority filter; policy accept;");
            lines.AddRange(ForwardRules());
            lines.Add("}");
        }

        lines.Add("}");
        return lines;
    }

    /// <summary>A listing's lines without indentation, blank lines or nft's stateful counters.</summary>
    public static IReadOnlyList<string> Normalize(string listing) =>
        listing.Split('\n').Select(static l => l.Trim()).Where(static l => l.Length > 0).ToArray();

    /// <summary>upstream v0.28's postrtg rules. nft prints the mark as <c>0x00004000</c>.</summary>
    private IEnumerable<string> MasqRules(bool listed)
    {
        string f = Family;
        string network = _rules.MasqNetwork!;
        string pod = _rules.MasqPodCidr!;
        string masquerade = _randomFully ? "masquerade fully-random" : "masquerade";
        yield return listed ? "meta mark 0x00004000 return" : "meta mark 0x4000 return";
        yield return $"{f} saddr {pod} {f} daddr {network} return";
        yield return $"{f} saddr {network} {f} daddr {pod} return";
        yield return $"{f} saddr != {pod} {f} daddr {network} return";
        yield return $"{f} saddr {network} {f} daddr != {_rules.MulticastCidr} {masquerade}";
        yield return $"{f} saddr != {network} {f} daddr {network} {masquerade}";
    }

    private IEnumerable<string> ForwardRules()
    {
        yield return $"{Family} saddr {_rules.ForwardNetwork} accept";
        yield return $"{Family} daddr {_rules.ForwardNetwork} accept";
    }
}
