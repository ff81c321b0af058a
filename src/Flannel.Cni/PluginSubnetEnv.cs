using Flannel.Core.Config;

namespace Flannel.Cni;

/// <summary>
/// subnet.env as the plugin needs it: read through <see cref="SubnetEnvFile"/>, then held to upstream's rule that a
/// network and a subnet of at least one family, the MTU and IPMASQ are present.
/// </summary>
internal static class PluginSubnetEnv
{
    /// <summary>Loads and checks the file; errors carry upstream's wording and point the operator at flanneld.</summary>
    public static SubnetEnv Load(string path)
    {
        string content;
        try
        {
            content = File.ReadAllText(path);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw Failure(CniErrorCode.TryAgainLater, $"open {path}: no such file or directory", path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw Failure(CniErrorCode.IoFailure, $"read {path}: {e.Message}", path);
        }

        SubnetEnv env;
        try
        {
            env = SubnetEnvFile.Parse(content);
        }
        catch (FormatException e)
        {
            throw Failure(CniErrorCode.DecodingFailure, $"{path}: {e.Message}", path);
        }

        string missing = Missing(env);
        if (missing.Length > 0)
        {
            throw Failure(CniErrorCode.DecodingFailure, $"{path} is missing {missing}", path);
        }

        return env;
    }

    /// <summary>The keys upstream's <c>subnetEnv.missing()</c> would list, comma-separated; empty when complete.</summary>
    public static string Missing(SubnetEnv env)
    {
        ArgumentNullException.ThrowIfNull(env);
        var missing = new List<string>();
        if (env.Networks.Count == 0 && env.IPv6Networks.Count == 0)
        {
            missing.Add("FLANNEL_NETWORK");
            missing.Add("FLANNEL_IPV6_NETWORK");
        }

        if (env.Subnet is null && env.IPv6Subnet is null)
        {
            missing.Add("FLANNEL_SUBNET");
            missing.Add("FLANNEL_IPV6_SUBNET");
        }

        if (env.Mtu is null)
        {
            missing.Add("FLANNEL_MTU");
        }

        if (env.IpMasq is null)
        {
            missing.Add("FLANNEL_IPMASQ");
        }

        return string.Join(", ", missing);
    }

    private static CniException Failure(int code, string cause, string path) =>
        new(code,
            $"failed to load flannel 'subnet.env' file: {cause}. Check the flannel pod log for this node.",
            $"flanneld writes {path} once it holds a subnet lease; check that flanneld is running and healthy on this node");
}
