using Flannel.Core.Config;
using Flannel.Lab;

namespace Flannel.Reliability.Tests;

/// <summary>Small helpers shared by the reliability cases: keys, lease owners, and waiting on a daemon's exit.</summary>
internal static class Lab
{
    public const string SubnetsPrefix = "/coreos.com/network/subnets/";

    /// <summary>
    /// Nodes lease below 198.18.200.0; the tests write their own (hostile, canary) leases above, so a node's random
    /// subnet can never be one the test overwrites.
    /// </summary>
    public static string NetConfig(string backend) => """{"Network":"198.18.0.0/16","SubnetLen":24,"SubnetMax":"198.18.199.0","Backend":{"Type":""" + "\"" + backend + "\"}}";

    public static string KeyOf(SubnetEnv env) => SubnetsPrefix + env.Subnet!.Value.ToString().Replace('/', '-');

    /// <summary>The PublicIP stored in a lease value, or null when it has none.</summary>
    public static string? PublicIpOf(string leaseValue) =>
        (string?)System.Text.Json.Nodes.JsonNode.Parse(leaseValue)?["PublicIP"];

    /// <summary>Waits for the process to exit; null when it is still running after <paramref name="timeout"/>.</summary>
    public static async Task<int?> ExitCodeWithinAsync(LabProcess process, TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cts.Token);
            return process.ExitCode;
        }
        catch (OperationCanceledException)
        {
            return null;
        }
    }
}
