using System.Globalization;
using System.Text.RegularExpressions;
using Flannel.Core.Config;
using Flannel.Lab;

namespace Flannel.Reliability.Tests;

/// <summary>Small helpers shared by the reliability cases: keys, lease owners, and waiting on a daemon's exit.</summary>
internal static partial class Lab
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

    /// <summary>
    /// A daemon's /metrics text, read inside its node's namespace from flanneld started with
    /// <c>--healthz-ip=127.0.0.1 --healthz-port=<paramref name="port"/></c> (bash's /dev/tcp: no HTTP client needed).
    /// </summary>
    public static Task<string> MetricsAsync(LabNode node, int port) =>
        node.ExecAsync("bash", "-c",
            "exec 3<>/dev/tcp/127.0.0.1/" + port.ToString(CultureInfo.InvariantCulture) + " && printf 'GET /metrics HTTP/1.0\\r\\nHost: 127.0.0.1\\r\\n\\r\\n' >&3 && cat <&3");

    /// <summary>The values of a counter with one label, by label value: e.g. flannel_store_requests_total by operation.</summary>
    public static Dictionary<string, long> CounterByLabel(string metricsText, string counter, string label) =>
        MetricLine().Matches(metricsText)
            .Where(m => m.Groups["name"].Value == counter && m.Groups["label"].Value == label)
            .ToDictionary(m => m.Groups["value"].Value, m => (long)double.Parse(m.Groups["count"].Value, CultureInfo.InvariantCulture), StringComparer.Ordinal);

    [GeneratedRegex("""^(?<name>[a-z_]+)\{(?<label>[a-z_]+)="(?<value>[^"]*)"\} (?<count>[0-9.e+]+)""", RegexOptions.Multiline)]
    private static partial Regex MetricLine();
}
