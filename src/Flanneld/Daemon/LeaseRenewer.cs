using System.Globalization;
using Flannel.Core.Leases;
using Flanneld.Health;
using Microsoft.Extensions.Logging;

namespace Flanneld.Daemon;

/// <summary>
/// Keeps this node's lease alive: renews it <c>--subnet-lease-renew-margin</c> before it expires, retrying on failure
/// until it is renewed or the daemon stops. A reservation (no expiry) needs no renewal.
/// </summary>
public sealed class LeaseRenewer
{
    private static readonly TimeSpan MaxRetryDelay = TimeSpan.FromMinutes(1);
    private readonly ILeaseStore _store;
    private readonly TimeSpan _margin;
    private readonly TimeProvider _time;
    private readonly FlannelMetrics _metrics;
    private readonly ILogger _logger;

    public LeaseRenewer(ILeaseStore store, TimeSpan margin, TimeProvider time, FlannelMetrics metrics, ILogger logger)
    {
        _metrics = metrics;
        _store = store;
        _margin = margin;
        _time = time;
        _logger = logger;
    }

    /// <summary>When to renew a lease that has <paramref name="remaining"/> left: at the margin, but never later than half way.</summary>
    public static TimeSpan RenewDelay(TimeSpan remaining, TimeSpan margin)
    {
        TimeSpan atMargin = remaining - margin;
        TimeSpan halfway = remaining / 2;
        TimeSpan delay = atMargin > halfway ? atMargin : halfway;
        return delay > TimeSpan.Zero ? delay : TimeSpan.Zero;
    }

    /// <summary>Runs until cancelled; <paramref name="current"/> always holds the latest lease.</summary>
    public async Task RunAsync(LeaseHolder current, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(current);
        while (!cancellationToken.IsCancellationRequested)
        {
            Lease lease = current.Lease;
            if (lease.Expiration is not { } expiration)
            {
                await current.WaitForChangeAsync(lease, cancellationToken);
                continue;
            }

            TimeSpan remaining = expiration - _time.GetUtcNow();
            using (var changed = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
            {
                Task delay = Task.Delay(RenewDelay(remaining, _margin), _time, changed.Token);
                Task change = current.WaitForChangeAsync(lease, changed.Token);
                await Task.WhenAny(delay, change);
                await changed.CancelAsync();
                cancellationToken.ThrowIfCancellationRequested();
                if (change.IsCompletedSuccessfully)
                {
                    continue;
                }
            }

            try
            {
                Lease renewed = await _store.RenewLeaseAsync(lease, cancellationToken);
                current.Replace(lease, renewed);
                _metrics.LeaseRenewal(succeeded: true);
                _metrics.SetLeaseExpiry(renewed.Expiration);
                DaemonLog.LeaseRenewed(_logger, renewed.Key, FormatExpiration(renewed.Expiration));
            }
            catch (Exception ex) when (ex is not OperationCanceledException && ex is not LeaseLostException)
            {
                TimeSpan left = expiration - _time.GetUtcNow();
                TimeSpan retry = left / 4 < MaxRetryDelay ? left / 4 : MaxRetryDelay;
                retry = retry > TimeSpan.FromMilliseconds(100) ? retry : TimeSpan.FromMilliseconds(100);
                _metrics.LeaseRenewal(succeeded: false);
                DaemonLog.LeaseRenewFailed(_logger, lease.Key, retry, ex.Message);
                await Task.Delay(retry, _time, cancellationToken);
            }
        }
    }

    internal static string FormatExpiration(DateTimeOffset? expiration) =>
        expiration?.ToString("O", CultureInfo.InvariantCulture) ?? "never (reservation)";
}
