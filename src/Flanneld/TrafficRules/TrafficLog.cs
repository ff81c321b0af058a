using Microsoft.Extensions.Logging;

namespace Flanneld.TrafficRules;

/// <summary>The traffic manager's log lines, with stable event ids.</summary>
internal static partial class TrafficLog
{
    [LoggerMessage(100, LogLevel.Information, "Traffic rules: {Mode} mode")]
    public static partial void Starting(ILogger logger, string mode);

    [LoggerMessage(101, LogLevel.Information, "Setting up masquerade rules for network {Network}, subnet {Subnet} ({Family})")]
    public static partial void SettingUpMasq(ILogger logger, string network, string subnet, IpFamily family);

    [LoggerMessage(102, LogLevel.Information, "Network or subnet changed from ({PreviousNetwork}, {PreviousSubnet}) to ({Network}, {Subnet}); the old masquerade rules are replaced")]
    public static partial void MasqChanged(ILogger logger, string previousNetwork, string previousSubnet, string network, string subnet);

    [LoggerMessage(103, LogLevel.Information, "Setting up forward rules for network {Network} ({Family})")]
    public static partial void SettingUpForward(ILogger logger, string network, IpFamily family);

    [LoggerMessage(104, LogLevel.Warning, "Flannel traffic rules were missing or changed; re-applied them ({Mode}, {Family})")]
    public static partial void Repaired(ILogger logger, string mode, string family);

    [LoggerMessage(105, LogLevel.Error, "Checking or repairing the traffic rules failed; retrying next period")]
    public static partial void ResyncFailed(ILogger logger, Exception exception);

    [LoggerMessage(106, LogLevel.Information, "Removed leftover {Mode} rules: {What}")]
    public static partial void RemovedOtherMode(ILogger logger, string mode, string what);

    [LoggerMessage(107, LogLevel.Debug, "Not cleaning up {Mode} leftovers: {Reason}")]
    public static partial void CleanUpSkipped(ILogger logger, string mode, string reason);

    [LoggerMessage(108, LogLevel.Warning, "Masquerading without fully-random port allocation: {Reason}")]
    public static partial void NoRandomFully(ILogger logger, string reason);
}
