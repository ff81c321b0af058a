using Microsoft.Extensions.Logging;

namespace Flanneld.Health;

/// <summary>The health endpoint's and start-up checks' log lines, with stable event ids.</summary>
internal static partial class HealthLog
{
    [LoggerMessage(200, LogLevel.Information, "Serving /healthz and /readyz at {BaseUrl} (metrics at /metrics: {Metrics})")]
    public static partial void Listening(ILogger logger, string baseUrl, bool metrics);

    [LoggerMessage(201, LogLevel.Warning, "Health endpoint request failed")]
    public static partial void ServeFailed(ILogger logger, Exception exception);

    [LoggerMessage(202, LogLevel.Debug, "Notified systemd: {State}")]
    public static partial void Notified(ILogger logger, string state);

    [LoggerMessage(203, LogLevel.Warning, "Could not notify systemd at {Socket}: {Reason}")]
    public static partial void NotifyFailed(ILogger logger, string socket, string reason);
}
