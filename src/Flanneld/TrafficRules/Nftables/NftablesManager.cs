using System.Text;
using Flanneld.Health;
using Flanneld.TrafficRules.Iptables;
using Microsoft.Extensions.Logging;

namespace Flanneld.TrafficRules.Nftables;

/// <summary>
/// nftables mode: tables <c>ip flannel-ipv4</c> / <c>ip6 flannel-ipv6</c> through the <c>nft</c> binary. A pass
/// lists each table (one <c>nft</c> run per family) and, when anything differs, rebuilds every desired table in one
/// <c>nft -f -</c> transaction. Upstream has no resync in this mode; we do, as in iptables mode.
/// </summary>
public sealed class NftablesManager : TrafficManagerBase
{
    private const string Nft = "nft";
    private readonly bool _randomFullyDisabled;
    private bool? _randomFully;

    public NftablesManager(ICommandRunner runner, bool randomFullyDisabled, ILogger logger, FlannelMetrics? metrics = null)
        : base(runner, logger, metrics)
    {
        _randomFullyDisabled = randomFullyDisabled;
    }

    public override string Mode => "nftables";

    public override async Task CleanUpOtherModeAsync(CancellationToken cancellationToken)
    {
        using var iptables = new IptablesManager(Runner, _randomFullyDisabled, Logger, Metrics);
        await iptables.RemoveAllAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Deletes both flannel tables if present (iptables mode's clean-up of this mode).</summary>
    public async Task RemoveAllAsync(CancellationToken cancellationToken)
    {
        CommandResult tables;
        try
        {
            tables = await Runner.RunAsync(Nft, ["list", "tables"], null, cancellationToken).ConfigureAwait(false);
        }
        catch (FileNotFoundException ex)
        {
            TrafficLog.CleanUpSkipped(Logger, Mode, ex.Message);
            return;
        }

        if (!tables.Succeeded)
        {
            TrafficLog.CleanUpSkipped(Logger, Mode, $"nft list tables exited with {tables.ExitCode}: {tables.StandardError.Trim()}");
            return;
        }

        IReadOnlyList<string> present = NftTable.Normalize(tables.StandardOutput);
        var script = new StringBuilder();
        foreach (IpFamily family in new[] { IpFamily.V4, IpFamily.V6 })
        {
            string table = $"{NftTable.FamilyOf(family)} {NftTable.NameOf(family)}";
            if (present.Contains($"table {table}"))
            {
                script.Append("delete table ").Append(table).Append('\n');
            }
        }

        if (script.Length > 0)
        {
            await ApplyAsync(script.ToString(), cancellationToken).ConfigureAwait(false);
            TrafficLog.RemovedOtherMode(Logger, Mode, script.ToString().Trim().Replace('\n', ';'));
        }
    }

    /// <summary>The tables <paramref name="desired"/> asks for.</summary>
    public async Task<IReadOnlyList<NftTable>> DesiredTablesAsync(IReadOnlyList<FamilyRules> desired, CancellationToken cancellationToken)
    {
        bool randomFully = await RandomFullyAsync(cancellationToken).ConfigureAwait(false);
        return desired.Where(static r => r.HasMasq || r.HasForward).Select(r => new NftTable(r, randomFully)).ToArray();
    }

    protected override async Task<IReadOnlyList<FamilyRules>> EnsureAsync(IReadOnlyList<FamilyRules> desired, CancellationToken cancellationToken)
    {
        IReadOnlyList<NftTable> tables = await DesiredTablesAsync(desired, cancellationToken).ConfigureAwait(false);
        var repaired = new List<FamilyRules>();
        var script = new StringBuilder();
        foreach ((NftTable table, FamilyRules rules) in tables.Zip(desired.Where(static r => r.HasMasq || r.HasForward)))
        {
            CommandResult listing = await Runner.RunAsync(Nft, ["list", "table", table.Family, table.Name], null, cancellationToken).ConfigureAwait(false);
            if (!listing.Succeeded || !NftTable.Normalize(listing.StandardOutput).SequenceEqual(table.ExpectedListing(), StringComparer.Ordinal))
            {
                script.Append(table.Script());
                repaired.Add(rules);
            }
        }

        if (script.Length > 0)
        {
            await ApplyAsync(script.ToString(), cancellationToken).ConfigureAwait(false);
        }

        return repaired;
    }

    private async Task ApplyAsync(string script, CancellationToken cancellationToken)
    {
        CommandResult result = await Runner.RunAsync(Nft, ["-f", "-"], script, cancellationToken).ConfigureAwait(false);
        if (!result.Succeeded)
        {
            throw new TrafficRulesException($"'nft -f -' exited with {result.ExitCode}: {result.StandardError.Trim()}; input was:\n{script}");
        }
    }

    /// <summary>Asks the kernel, without committing, whether it takes <c>masquerade fully-random</c> (as upstream does).</summary>
    private async Task<bool> RandomFullyAsync(CancellationToken cancellationToken)
    {
        if (_randomFullyDisabled)
        {
            return false;
        }

        if (_randomFully is { } known)
        {
            return known;
        }

        const string Probe = """
            add table ip flannel-probe
            add chain ip flannel-probe masqueradeTest { type nat hook postrouting priority srcnat ; }
            add rule ip flannel-probe masqueradeTest ip saddr != 127.0.0.1 masquerade fully-random

            """;
        CommandResult result = await Runner.RunAsync(Nft, ["--check", "-f", "-"], Probe, cancellationToken).ConfigureAwait(false);
        if (!result.Succeeded)
        {
            TrafficLog.NoRandomFully(Logger, result.StandardError.Trim());
        }

        _randomFully = result.Succeeded;
        return result.Succeeded;
    }
}
