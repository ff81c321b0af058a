using Flannel.Core.Config;
using Flannel.Core.Leases;
using Flanneld.Backends;
using Flanneld.Health;
using Flanneld.Options;
using Flanneld.TrafficRules;
using Microsoft.Extensions.Logging;
using Flannel.Linux.Interfaces;

namespace Flanneld.Daemon;

/// <summary>
/// flanneld's start-up sequence and lifetime, as upstream orders it: config (retried) → interface → backend
/// registration (lease) → subnet.env (ready) → watch peers, renew the lease, backend upkeep → wait for a signal.
/// On shutdown the lease and the kernel state stay in place so that a restart is seamless.
/// </summary>
public sealed class FlanneldDaemon
{
    private readonly FlanneldOptions _options;
    private readonly ILeaseStore _store;
    private readonly Func<string, IBackend> _backends;
    private readonly IExternalInterfaceResolver _interfaces;
    private readonly Func<NetConfig, ITrafficManager> _trafficRules;
    private readonly FlannelMetrics _metrics;
    private readonly BlackholeRouteKeeper? _blackhole;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public FlanneldDaemon(
        FlanneldOptions options,
        ILeaseStore store,
        Func<string, IBackend> backends,
        IExternalInterfaceResolver interfaces,
        Func<NetConfig, ITrafficManager> trafficRules,
        FlannelMetrics metrics,
        BlackholeRouteKeeper? blackhole,
        TimeProvider time,
        ILogger logger)
    {
        _blackhole = blackhole;
        _trafficRules = trafficRules;
        _metrics = metrics;
        _options = options;
        _store = store;
        _backends = backends;
        _interfaces = interfaces;
        _time = time;
        _logger = logger;
    }

    /// <summary>Completes when subnet.env has been written; the daemon is then ready.</summary>
    public Task Ready => _ready.Task;

    /// <summary>Runs until <paramref name="cancellationToken"/> is cancelled (a clean stop) or the lease is lost.</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        NetConfig config = await GetConfigAsync(cancellationToken);
        if (StartupChecks.CheckBrNetfilter(config.EnableNFTables, config.EnableIPv4, config.EnableIPv6, File.Exists) is { } brNetfilter)
        {
            throw new ConfigException(brNetfilter);
        }

        IBackend backend = _backends(config.BackendType);
        SubnetEnv? previous = ReadPreviousSubnetEnv();
        using ITrafficManager trafficRules = _trafficRules(config);

        // The forward rules need only the config: they go in (iptables binaries, 10-20 ms) while the interface is
        // resolved and the lease acquired (etcd round trips). subnet.env still waits for them, as upstream's order wants.
        Task forwardRules = Task.Run(() => TrafficRulesStartup.SetUpForwardAsync(trafficRules, _options, config, cancellationToken), cancellationToken);
        IBackendNetwork registered;
        try
        {
            registered = await RegisterAsync(backend, config, previous, cancellationToken);
        }
        catch (Exception)
        {
            // The rule setup still runs on the manager disposed below: let it finish; the registration's error is the one to report.
            await forwardRules.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            throw;
        }

        await using IBackendNetwork network = registered;
        Lease lease = network.Lease;
        await forwardRules;
        await TrafficRulesStartup.SetUpMasqAsync(trafficRules, _options, config, lease, previous, cancellationToken);

        WriteSubnetEnv(config, lease, network.Mtu);
        _ready.TrySetResult();

        var own = new LeaseHolder(lease);
        var reconciler = new PeerReconciler(_store, network, config, own, _metrics, _logger);
        var renewer = new LeaseRenewer(_store, TimeSpan.FromMinutes(_options.SubnetLeaseRenewMarginMinutes), _time, _metrics, _logger);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        Task[] loops =
        [
            Guard(reconciler.RunAsync(stop.Token), stop),
            Guard(renewer.RunAsync(own, stop.Token), stop),
            Guard(network.RunAsync(stop.Token), stop),
            Guard(trafficRules.RunAsync(TimeSpan.FromSeconds(_options.IptablesResyncSeconds), stop.Token), stop),
            Guard(_blackhole?.RunAsync(lease, stop.Token) ?? Task.CompletedTask, stop),
        ];
        SystemdNotifier.NotifyReady(_logger);

        try
        {
            await Task.WhenAll(loops);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            SystemdNotifier.NotifyStopping(_logger);
            DaemonLog.ShuttingDown(_logger);
            throw;
        }
    }

    /// <summary>Resolves the interface and registers the backend (the lease); the network is disposed again if its MTU does not fit.</summary>
    private async Task<IBackendNetwork> RegisterAsync(IBackend backend, NetConfig config, SubnetEnv? previous, CancellationToken cancellationToken)
    {
        ExternalInterface iface = await _interfaces.ResolveAsync(config, cancellationToken);
        DaemonLog.InterfaceChosen(_logger, iface.Name, iface.Index, iface.Mtu, iface.ExternalAddress?.ToString() ?? "none", iface.ExternalIPv6Address?.ToString() ?? "none");

        IBackendNetwork network = await backend.RegisterNetworkAsync(new BackendContext(config, iface, _store, previous), cancellationToken);
        Lease lease = network.Lease;
        DaemonLog.LeaseAcquired(_logger, lease.Key, config.BackendType, LeaseRenewer.FormatExpiration(lease.Expiration));
        _metrics.SetLeaseExpiry(lease.Expiration);
        if (StartupChecks.CheckMtu(config.BackendType, iface.Name, iface.Mtu, network.Mtu, config.EnableIPv6) is { } mtuProblem)
        {
            await network.DisposeAsync();
            throw new ConfigException(mtuProblem);
        }

        return network;
    }

    /// <summary>
    /// A loop that fails (a lost lease) stops the others; one that simply has nothing to do (alloc's upkeep) does not.
    /// </summary>
    private static async Task Guard(Task loop, CancellationTokenSource stop)
    {
        try
        {
            await loop;
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            await stop.CancelAsync();
            throw;
        }
    }

    private async Task<NetConfig> GetConfigAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            try
            {
                NetConfig config = await _store.GetNetworkConfigAsync(cancellationToken);
                DaemonLog.ConfigLoaded(_logger, config.Network?.ToString() ?? "none", config.SubnetLen, config.IPv6Network?.ToString() ?? "none", config.BackendType);
                return config;
            }
            catch (ConfigException)
            {
                // A config that is present but wrong will not fix itself by waiting a second: say so and stop.
                throw;
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                DaemonLog.ConfigRetry(_logger, ex.Message);
                await Task.Delay(TimeSpan.FromSeconds(1), _time, cancellationToken);
            }
        }
    }

    private SubnetEnv? ReadPreviousSubnetEnv()
    {
        try
        {
            return SubnetEnvFile.TryReadSubnets(_options.SubnetFile);
        }
        catch (Exception ex) when (ex is FormatException or IOException or UnauthorizedAccessException)
        {
            DaemonLog.PreviousSubnetFileUnreadable(_logger, _options.SubnetFile, ex.Message);
            return null;
        }
    }

    private void WriteSubnetEnv(NetConfig config, Lease lease, int mtu)
    {
        var env = new SubnetEnv
        {
            Networks = config.EnableIPv4 && config.Network is { } network ? [network] : [],
            Subnet = lease.Subnet,
            IPv6Networks = config.EnableIPv6 && config.IPv6Network is { } network6 ? [network6] : [],
            IPv6Subnet = lease.IPv6Subnet,
            Mtu = mtu,
            IpMasq = _options.IpMasq,
        };
        SubnetEnvFile.Write(_options.SubnetFile, env);
        DaemonLog.SubnetFileWritten(_logger, _options.SubnetFile, lease.Key, mtu);
    }
}
