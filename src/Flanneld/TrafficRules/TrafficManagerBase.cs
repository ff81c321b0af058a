using Flannel.Core.Net;
using Flanneld.Health;
using Microsoft.Extensions.Logging;

namespace Flanneld.TrafficRules;

/// <summary>
/// The part both modes share: the desired state per family, the setup calls that extend it, and the resync loop.
/// A mode supplies how to compare the installed rules with the desired ones and how to repair them.
/// </summary>
public abstract class TrafficManagerBase : ITrafficManager
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly Lock _desiredLock = new();
    private FamilyRules? _v4;
    private FamilyRules? _v6;

    protected TrafficManagerBase(ICommandRunner runner, ILogger logger, FlannelMetrics? metrics)
    {
        Runner = runner;
        Logger = logger;
        Metrics = metrics;
    }

    public abstract string Mode { get; }

    protected ICommandRunner Runner { get; }

    protected ILogger Logger { get; }

    protected FlannelMetrics? Metrics { get; }

    /// <summary>The families with anything to install, v4 first.</summary>
    public IReadOnlyList<FamilyRules> Desired
    {
        get
        {
            lock (_desiredLock)
            {
                return new[] { _v4, _v6 }.OfType<FamilyRules>().ToArray();
            }
        }
    }

    public abstract Task CleanUpOtherModeAsync(CancellationToken cancellationToken);

    public Task SetupAndEnsureMasqRulesAsync(Ip4Net network, Ip4Net lease, Ip4Net? previousNetwork, Ip4Net? previousLease, CancellationToken cancellationToken) =>
        SetupMasqAsync(IpFamily.V4, network.Canonical.ToString(), lease.Canonical.ToString(), previousNetwork?.Canonical.ToString(), previousLease?.Canonical.ToString(), cancellationToken);

    public Task SetupAndEnsureMasqRulesAsync(Ip6Net network, Ip6Net lease, Ip6Net? previousNetwork, Ip6Net? previousLease, CancellationToken cancellationToken) =>
        SetupMasqAsync(IpFamily.V6, network.Canonical.ToString(), lease.Canonical.ToString(), previousNetwork?.Canonical.ToString(), previousLease?.Canonical.ToString(), cancellationToken);

    public Task SetupAndEnsureForwardRulesAsync(Ip4Net network, CancellationToken cancellationToken) =>
        SetupForwardAsync(IpFamily.V4, network.Canonical.ToString(), cancellationToken);

    public Task SetupAndEnsureForwardRulesAsync(Ip6Net network, CancellationToken cancellationToken) =>
        SetupForwardAsync(IpFamily.V6, network.Canonical.ToString(), cancellationToken);

    public async Task<bool> ResyncOnceAsync(CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            IReadOnlyList<FamilyRules> desired = Desired;
            if (desired.Count == 0)
            {
                return false;
            }

            IReadOnlyList<FamilyRules> repaired = await EnsureAsync(desired, cancellationToken).ConfigureAwait(false);
            if (repaired.Count > 0)
            {
                Metrics?.RulesRepaired(Mode);
                TrafficLog.Repaired(Logger, Mode, string.Join(", ", repaired.Select(static r => r.Family)));
            }

            return repaired.Count > 0;
        }
        catch (Exception) when (!cancellationToken.IsCancellationRequested)
        {
            Metrics?.ProgrammingError(Mode);
            throw;
        }
        finally
        {
            _gate.Release();
        }
    }

    public async Task RunAsync(TimeSpan resyncPeriod, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(resyncPeriod, TimeSpan.Zero);
        try
        {
            while (true)
            {
                await Task.Delay(resyncPeriod, cancellationToken).ConfigureAwait(false);
                try
                {
                    await ResyncOnceAsync(cancellationToken).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    TrafficLog.ResyncFailed(Logger, ex);
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // A clean stop: the rules stay installed.
        }
    }

    public void Dispose()
    {
        Dispose(disposing: true);
        GC.SuppressFinalize(this);
    }

    protected virtual void Dispose(bool disposing)
    {
        if (disposing)
        {
            _gate.Dispose();
        }
    }

    /// <summary>
    /// Compares the installed rules of each desired family with the desired ones and repairs those that differ,
    /// each in one transaction. Returns the families it repaired.
    /// </summary>
    protected abstract Task<IReadOnlyList<FamilyRules>> EnsureAsync(IReadOnlyList<FamilyRules> desired, CancellationToken cancellationToken);

    private async Task SetupMasqAsync(IpFamily family, string network, string subnet, string? previousNetwork, string? previousSubnet, CancellationToken cancellationToken)
    {
        TrafficLog.SettingUpMasq(Logger, network, subnet, family);
        if ((previousNetwork is not null && previousNetwork != network) || (previousSubnet is not null && previousSubnet != subnet))
        {
            TrafficLog.MasqChanged(Logger, previousNetwork ?? "none", previousSubnet ?? "none", network, subnet);
        }

        Update(family, rules => rules with { MasqNetwork = network, MasqPodCidr = subnet });
        await ResyncOnceAsync(cancellationToken).ConfigureAwait(false);
    }

    private async Task SetupForwardAsync(IpFamily family, string network, CancellationToken cancellationToken)
    {
        TrafficLog.SettingUpForward(Logger, network, family);
        Update(family, rules => rules with { ForwardNetwork = network });
        await ResyncOnceAsync(cancellationToken).ConfigureAwait(false);
    }

    private void Update(IpFamily family, Func<FamilyRules, FamilyRules> change)
    {
        lock (_desiredLock)
        {
            UpdateLocked(family, change);
        }
    }

    private void UpdateLocked(IpFamily family, Func<FamilyRules, FamilyRules> change)
    {
        if (family == IpFamily.V4)
        {
            _v4 = change(_v4 ?? new FamilyRules(family));
        }
        else
        {
            _v6 = change(_v6 ?? new FamilyRules(family));
        }
    }
}
