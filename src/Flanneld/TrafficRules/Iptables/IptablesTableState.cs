namespace Flanneld.TrafficRules.Iptables;

/// <summary>One table of <c>iptables-save</c> output: the chains it declares and its rules in order.</summary>
public sealed class IptablesTableState
{
    private readonly HashSet<string> _chains = new(StringComparer.Ordinal);
    private readonly List<string> _rules = [];

    public IReadOnlySet<string> Chains => _chains;

    public IReadOnlyList<string> Rules => _rules;

    /// <summary>
    /// Splits <c>iptables-save</c> output into its tables. A table the output does not mention (not yet created in
    /// the nft backend) is simply absent. With <paramref name="chains"/>, only the rules of those chains are kept:
    /// beside kube-proxy's tables that skips tens of thousands of lines without allocating them.
    /// </summary>
    public static IReadOnlyDictionary<string, IptablesTableState> Parse(string save, IReadOnlySet<string>? chains = null)
    {
        var tables = new Dictionary<string, IptablesTableState>(StringComparer.Ordinal);
        IptablesTableState? current = null;
        foreach (ReadOnlySpan<char> raw in save.AsSpan().EnumerateLines())
        {
            ReadOnlySpan<char> line = raw.TrimEnd('\r');
            if (line.IsEmpty || line[0] == '#')
            {
                continue;
            }

            if (line[0] == '*')
            {
                current = new IptablesTableState();
                tables[line[1..].ToString()] = current;
            }
            else if (current is null || line.SequenceEqual("COMMIT"))
            {
                continue;
            }
            else if (line[0] == ':')
            {
                int space = line.IndexOf(' ');
                current._chains.Add((space < 0 ? line[1..] : line[1..space]).ToString());
            }
            else if (line.StartsWith("-A ", StringComparison.Ordinal) && (chains is null || IsRuleOf(line, chains)))
            {
                current._rules.Add(line.ToString());
            }
        }

        return tables;
    }

    /// <summary>
    /// Reads <c>iptables -S CHAIN</c> outputs of one table (<c>-P</c>/<c>-N</c> declare chains, <c>-A</c> are rules).
    /// Listing single chains stays cheap when other software keeps large tables: the nft backend then fetches just
    /// those chains, where a full <c>iptables-save</c> of a kube-proxy table costs hundreds of milliseconds.
    /// </summary>
    public static IptablesTableState ParseListings(params string[] listings)
    {
        var state = new IptablesTableState();
        foreach (string listing in listings)
        {
            foreach (string raw in listing.Split('\n'))
            {
                string line = raw.TrimEnd('\r');
                if (line.StartsWith("-A ", StringComparison.Ordinal))
                {
                    state._rules.Add(line);
                }
                else if (line.StartsWith("-N ", StringComparison.Ordinal) || line.StartsWith("-P ", StringComparison.Ordinal))
                {
                    string[] words = line.Split(' ');
                    state._chains.Add(words[1]);
                }
            }
        }

        return state;
    }

    private static bool IsRuleOf(ReadOnlySpan<char> line, IReadOnlySet<string> chains)
    {
        ReadOnlySpan<char> rest = line[3..];
        int space = rest.IndexOf(' ');
        ReadOnlySpan<char> chain = space < 0 ? rest : rest[..space];
        foreach (string wanted in chains)
        {
            if (chain.SequenceEqual(wanted))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>The rules of <paramref name="chain"/>, in order.</summary>
    public IEnumerable<string> RulesOf(string chain) => _rules.Where(r => r.StartsWith($"-A {chain} ", StringComparison.Ordinal));

    /// <summary>True when the set is installed exactly: its chain holds exactly its rules, and its hook exactly one jump.</summary>
    public bool Matches(IptablesChainRules desired) =>
        _chains.Contains(desired.Chain)
        && RulesOf(desired.Chain).SequenceEqual(desired.Rules, StringComparer.Ordinal)
        && _rules.Where(desired.IsOursInHook).SequenceEqual([desired.Jump], StringComparer.Ordinal);
}
