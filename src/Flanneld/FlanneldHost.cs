using Flannel.Core.Config;
using Flannel.Core.Leases;
using Flannel.Linux.Netlink;
using Flanneld.Backends;
using Flanneld.Backends.Alloc;
using Flanneld.Backends.HostGw;
using Flanneld.Backends.Udp;
using Flanneld.Backends.Vxlan;
using Flanneld.Daemon;
using Flanneld.Health;
using Flanneld.TrafficRules;
using Flanneld.Leases.Etcd;
using Flanneld.Leases.Kubernetes;
using Flanneld.Options;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;

namespace Flanneld;

/// <summary>
/// The composition root: picks the lease store and the backend explicitly (no reflection, AOT-safe), wires logging,
/// and runs the daemon. Exit codes: 0 after a signal, 1 on a fatal error (named in the log), 3 when the lease was lost.
/// </summary>
internal static class FlanneldHost
{
    public static async Task<int> RunAsync(FlanneldOptions options, CancellationToken cancellationToken)
    {
        using ILoggerFactory loggers = CreateLoggerFactory(options.Verbosity);
        ILogger logger = loggers.CreateLogger("flanneld");
        try
        {
            using var netlink = Rtnetlink.Open();
            using var metrics = new FlannelMetrics();
            ILeaseStore store;
            if (options.KubeSubnetMgr)
            {
                var kube = KubeLeaseStore.Create(options, loggers.CreateLogger("kube"));
                store = kube;
                if (options.PublicIP is null || options.PublicIPv6 is null)
                {
                    // The node-public-ip annotations stand in for --public-ip / --public-ipv6 when those are absent.
                    (System.Net.IPAddress? ip, System.Net.IPAddress? ipv6) = await kube.GetNodePublicIPAsync(cancellationToken);
                    options = options with { PublicIP = options.PublicIP ?? ip, PublicIPv6 = options.PublicIPv6 ?? ipv6 };
                }
            }
            else
            {
                store = new EtcdLeaseStore(EtcdStoreOptions.FromFlanneld(options), loggers.CreateLogger<EtcdLeaseStore>(), metrics: metrics);
            }

            using var ownedStore = (IDisposable)store;
            IBackend Backends(string type) => type switch
            {
                "vxlan" => new VxlanBackend(netlink, loggers.CreateLogger("vxlan")),
                "host-gw" => new HostGwBackend(netlink, loggers.CreateLogger("host-gw")),
                "udp" => new UdpBackend(netlink, loggers.CreateLogger("udp")),
                "alloc" => new AllocBackend(),
                _ => throw new ConfigException("Backend.Type", $"backend type {type} is not supported by Flannel.NET yet"),
            };

            ITrafficManager TrafficRules(NetConfig config) =>
                TrafficManagerFactory.Create(config.EnableNFTables, options.IpMasqFullyRandomDisable, loggers.CreateLogger("traffic"), metrics);
            BlackholeRouteKeeper? blackhole = options.IpBlackholeRoute
                ? new BlackholeRouteKeeper(netlink, TimeSpan.FromSeconds(options.IptablesResyncSeconds), logger)
                : null;
            var daemon = new FlanneldDaemon(options, store, Backends, new NetlinkInterfaceResolver(netlink, options), TrafficRules, metrics, blackhole, TimeProvider.System, logger);

            // Health first, as upstream: /healthz answers while the daemon still waits for its config.
            await using HealthServer? health = options.HealthzPort > 0
                ? HealthServer.Start(options.HealthzIP, options.HealthzPort, () => daemon.Ready.IsCompletedSuccessfully, metrics, loggers.CreateLogger("healthz"))
                : null;
            await daemon.RunAsync(cancellationToken);
            return 0;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return 0;
        }
        catch (LeaseLostException ex)
        {
            HostLog.Fatal(logger, ex.Message);
            return 3;
        }
        catch (Exception ex)
        {
            // The daemon's last word: what stopped it, named, on one line; then a non-zero exit for the supervisor.
            HostLog.Fatal(logger, ex.Message);
            return 1;
        }
    }

    private static ILoggerFactory CreateLoggerFactory(int verbosity) => LoggerFactory.Create(builder =>
    {
        builder.SetMinimumLevel(verbosity switch
        {
            <= 0 => LogLevel.Information,
            < 4 => LogLevel.Debug,
            _ => LogLevel.Trace,
        });
        // Like klog with logtostderr: one line per event, UTC timestamps, all on stderr.
        builder.AddSimpleConsole(o =>
        {
            o.SingleLine = true;
            o.UseUtcTimestamp = true;
            o.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ ";
        });
        builder.Services.Configure<ConsoleLoggerOptions>(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
    });
}

internal static partial class HostLog
{
    [LoggerMessage(900, LogLevel.Critical, "{Message}")]
    public static partial void Fatal(ILogger logger, string message);
}
