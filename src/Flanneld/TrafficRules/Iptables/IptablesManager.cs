using System.Text;
using Flanneld.Health;
using Flanneld.TrafficRules.Nftables;
using Microsoft.Extensions.Logging;

namespace Flanneld.TrafficRules.Iptables;

/// <summary>
/// iptables mode: FLANNEL-POSTRTG (nat) and FLANNEL-FWD (filter) through iptables-save / iptables-restore
/// (ip6tables-* for IPv6). A pass reads the installed rules (nft backend: each of our chains and its hook chain with
/// <c>iptables -w -t T -S CHAIN</c>; legacy backend: one <c>iptables-save</c>) and writes only when they differ,
/// with one <c>iptables-restore --noflush --wait</c> per family that honours the xtables lock.
/// </summary>
public sealed class IptablesManager : TrafficManagerBase
{
    private readonly bool _randomFullyDisabled;
    private readonly Dictionary<IpFamily, IptablesVersion> _versions = [];

    public IptablesManager(ICommandRunner runner, bool randomFullyDisabled, ILogger logger, FlannelMetrics? metrics = null)
        : base(runner, logger, metrics)
    {
        _randomFullyDisabled = randomFullyDisabled;
    }

    public override string Mode => "iptables";

    public override async Task CleanUpOtherModeAsync(CancellationToken cancellationToken)
    {
        using var nftables = new NftablesManager(Runner, _randomFullyDisabled, Logger, Metrics);
        await nftables.RemoveAllAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Removes both flannel chains and their jumps, v4 and v6 (nftables mode's clean-up of this mode).</summary>
    public async Task RemoveAllAsync(CancellationToken cancellationToken)
    {
        foreach (IpFamily family in new[] { IpFamily.V4, IpFamily.V6 })
        {
            string save = SaveProgram(family);
            CommandResult result;
            try
            {
                result = await Runner.RunAsync(save, [], null, cancellationToken).ConfigureAwait(false);
            }
            catch (FileNotFoundException ex)
            {
                TrafficLog.CleanUpSkipped(Logger, Mode, ex.Message);
                continue;
            }

            if (!result.Succeeded)
            {
                TrafficLog.CleanUpSkipped(Logger, Mode, $"{save} exited with {result.ExitCode}: {result.StandardError.Trim()}");
                continue;
            }

            IReadOnlyDictionary<string, IptablesTableState> tables = IptablesTableState.Parse(result.StandardOutput);
            var payload = new StringBuilder();
            foreach (IptablesChainRules set in IptablesChainRules.AllEmpty)
            {
                payload.Append(IptablesRestorePayload.Remove(set, tables.GetValueOrDefault(set.Table)));
            }

            if (payload.Length > 0)
            {
                await RestoreAsync(family, payload.ToString(), cancellationToken).ConfigureAwait(false);
                TrafficLog.RemovedOtherMode(Logger, Mode, $"{IptablesChainRules.MasqChain}/{IptablesChainRules.ForwardChain} ({family})");
            }
        }
    }

    /// <summary>The rule sets <paramref name="rules"/> asks for, as iptables-save prints them.</summary>
    public async Task<IReadOnlyList<IptablesChainRules>> DesiredChainsAsync(FamilyRules rules, CancellationToken cancellationToken)
    {
        var sets = new List<IptablesChainRules>(2);
        if (rules.HasMasq)
        {
            bool randomFully = !_randomFullyDisabled && (await VersionAsync(rules.Family, cancellationToken).ConfigureAwait(false)).SupportsRandomFully;
            sets.Add(IptablesChainRules.Masq(rules.MasqNetwork!, rules.MasqPodCidr!, rules.MulticastCidr, randomFully));
        }

        if (rules.HasForward)
        {
            sets.Add(IptablesChainRules.Forward(rules.ForwardNetwork!));
        }

        return sets;
    }

    protected override async Task<IReadOnlyList<FamilyRules>> EnsureAsync(IReadOnlyList<FamilyRules> desired, CancellationToken cancellationToken)
    {
        var repaired = new List<FamilyRules>();
        foreach (FamilyRules rules in desired)
        {
            IReadOnlyList<IptablesChainRules> sets = await DesiredChainsAsync(rules, cancellationToken).ConfigureAwait(false);
            if (sets.Count == 0)
            {
                continue;
            }

            // The nft backend lists single chains cheaply even beside kube-proxy's large tables, where its
            // iptables-save costs hundreds of milliseconds; the legacy backend always copies whole tables, so there
            // one iptables-save per family is the cheaper read.
            bool nfTables = (await VersionAsync(rules.Family, cancellationToken).ConfigureAwait(false)).NfTables;
            IReadOnlyDictionary<string, IptablesTableState>? saved = nfTables ? null : await SaveAsync(rules.Family, sets, cancellationToken).ConfigureAwait(false);
            var payload = new StringBuilder();
            foreach (IptablesChainRules set in sets)
            {
                IptablesTableState current = saved is null
                    ? await ListAsync(rules.Family, set, cancellationToken).ConfigureAwait(false)
                    : saved.GetValueOrDefault(set.Table) ?? new IptablesTableState();
                if (!current.Matches(set))
                {
                    payload.Append(IptablesRestorePayload.Install(set, current));
                }
            }

            if (payload.Length > 0)
            {
                await RestoreAsync(rules.Family, payload.ToString(), cancellationToken).ConfigureAwait(false);
                repaired.Add(rules);
            }
        }

        return repaired;
    }

    /// <summary>One <c>iptables-save</c> of the tables <paramref name="sets"/> live in.</summary>
    private async Task<IReadOnlyDictionary<string, IptablesTableState>> SaveAsync(IpFamily family, IReadOnlyList<IptablesChainRules> sets, CancellationToken cancellationToken)
    {
        string[] arguments = sets.Count == 1 ? ["-t", sets[0].Table] : [];
        string save = SaveProgram(family);
        CommandResult result = await Runner.RunAsync(save, arguments, null, cancellationToken).ConfigureAwait(false);
        HashSet<string> chains = sets.SelectMany(static set => new[] { set.Chain, set.HookChain }).ToHashSet(StringComparer.Ordinal);
        return result.Succeeded ? IptablesTableState.Parse(result.StandardOutput, chains) : throw TrafficRulesException.Failed(save, arguments, result);
    }

    /// <summary>Lists our chain and its hook chain: two cheap <c>iptables -S</c> runs.</summary>
    private async Task<IptablesTableState> ListAsync(IpFamily family, IptablesChainRules set, CancellationToken cancellationToken)
    {
        string iptables = family == IpFamily.V4 ? "iptables" : "ip6tables";
        string[] ownArguments = ["-w", "-t", set.Table, "-S", set.Chain];
        CommandResult own = await Runner.RunAsync(iptables, ownArguments, null, cancellationToken).ConfigureAwait(false);

        // Exit 1 is iptables' "no such chain" (the nft backend words it oddly): the chain is simply missing.
        if (!own.Succeeded && own.ExitCode != 1)
        {
            throw TrafficRulesException.Failed(iptables, ownArguments, own);
        }

        string[] hookArguments = ["-w", "-t", set.Table, "-S", set.HookChain];
        CommandResult hook = await Runner.RunAsync(iptables, hookArguments, null, cancellationToken).ConfigureAwait(false);
        if (!hook.Succeeded)
        {
            throw TrafficRulesException.Failed(iptables, hookArguments, hook);
        }

        return IptablesTableState.ParseListings(own.Succeeded ? own.StandardOutput : string.Empty, hook.StandardOutput);
    }

    private async Task RestoreAsync(IpFamily family, string payload, CancellationToken cancellationToken)
    {
        IptablesVersion version = await VersionAsync(family, cancellationToken).ConfigureAwait(false);
        string restore = family == IpFamily.V4 ? "iptables-restore" : "ip6tables-restore";
        string[] arguments = version.SupportsRestoreWait ? ["--noflush", "--wait"] : ["--noflush"];
        CommandResult result = await Runner.RunAsync(restore, arguments, payload, cancellationToken).ConfigureAwait(false);
        if (!result.Succeeded)
        {
            throw new TrafficRulesException(
                $"'{restore} {string.Join(' ', arguments)}' exited with {result.ExitCode}: {result.StandardError.Trim()}; input was:\n{payload}");
        }
    }

    private async Task<IptablesVersion> VersionAsync(IpFamily family, CancellationToken cancellationToken)
    {
        if (_versions.TryGetValue(family, out IptablesVersion known))
        {
            return known;
        }

        string program = family == IpFamily.V4 ? "iptables" : "ip6tables";
        CommandResult result = await Runner.RunAsync(program, ["--version"], null, cancellationToken).ConfigureAwait(false);
        if (!result.Succeeded || !IptablesVersion.TryParse(result.StandardOutput, out IptablesVersion version))
        {
            throw new TrafficRulesException($"Could not tell the version of {program}: exit {result.ExitCode}, output '{result.StandardOutput.Trim()}{result.StandardError.Trim()}'.");
        }

        if (!version.SupportsRandomFully && !_randomFullyDisabled)
        {
            TrafficLog.NoRandomFully(Logger, $"{program} {version} is older than v1.6.2");
        }

        _versions[family] = version;
        return version;
    }

    private static string SaveProgram(IpFamily family) => family == IpFamily.V4 ? "iptables-save" : "ip6tables-save";
}
