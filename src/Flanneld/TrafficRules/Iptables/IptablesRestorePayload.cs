using System.Text;

namespace Flanneld.TrafficRules.Iptables;

/// <summary>
/// Builds <c>iptables-restore --noflush</c> input. Declaring our chain creates it or empties it, so one table block
/// replaces the whole set atomically, whatever was there: missing rules, stale rules of an old network or subnet,
/// a reordered chain, duplicate jumps.
/// </summary>
public static class IptablesRestorePayload
{
    /// <summary>The block that installs <paramref name="desired"/> over <paramref name="current"/> (null: table not there).</summary>
    public static string Install(IptablesChainRules desired, IptablesTableState? current)
    {
        var payload = new StringBuilder();
        payload.Append('*').Append(desired.Table).Append('\n');
        payload.Append(':').Append(desired.Chain).Append(" - [0:0]\n");
        AppendHookDeletes(payload, desired, current);
        payload.Append(desired.Jump).Append('\n');
        foreach (string rule in desired.Rules)
        {
            payload.Append(rule).Append('\n');
        }

        payload.Append("COMMIT\n");
        return payload.ToString();
    }

    /// <summary>The block that removes the set entirely, or null when nothing of it is there.</summary>
    public static string? Remove(IptablesChainRules set, IptablesTableState? current)
    {
        if (current is null || (!current.Chains.Contains(set.Chain) && !current.Rules.Any(set.IsOursInHook)))
        {
            return null;
        }

        var payload = new StringBuilder();
        payload.Append('*').Append(set.Table).Append('\n');
        if (current.Chains.Contains(set.Chain))
        {
            payload.Append(':').Append(set.Chain).Append(" - [0:0]\n");
        }

        AppendHookDeletes(payload, set, current);
        if (current.Chains.Contains(set.Chain))
        {
            payload.Append("-X ").Append(set.Chain).Append('\n');
        }

        payload.Append("COMMIT\n");
        return payload.ToString();
    }

    private static void AppendHookDeletes(StringBuilder payload, IptablesChainRules set, IptablesTableState? current)
    {
        if (current is null)
        {
            return;
        }

        foreach (string line in current.Rules.Where(set.IsOursInHook))
        {
            payload.Append("-D").Append(line.AsSpan(2)).Append('\n');
        }
    }
}
