namespace Flannel.Lab;

public static class LabPaths
{
    public const string EtcdAddress = "192.0.2.254";

    /// <summary>The underlay's IPv6 prefix (inside 2001:db8::/32); node n has <c>2001:db8:0:1::n</c>.</summary>
    public const string UnderlayPrefixIPv6 = "2001:db8:0:1::";

    /// <summary>The underlay bridge's IPv6 address, the nodes' default IPv6 gateway.</summary>
    public const string UnderlayGatewayIPv6 = UnderlayPrefixIPv6 + "fe";

    public static string EtcdEndpoint => $"http://{EtcdAddress}:2379";

    /// <summary>The published binaries: $FLANNEL_BIN_DIR, else artifacts/bin above the running assembly.</summary>
    public static string BinDir
    {
        get
        {
            string? fromEnv = Environment.GetEnvironmentVariable("FLANNEL_BIN_DIR");
            if (!string.IsNullOrEmpty(fromEnv))
            {
                return fromEnv;
            }

            for (string? dir = AppContext.BaseDirectory; dir is not null; dir = Path.GetDirectoryName(dir))
            {
                if (File.Exists(Path.Combine(dir, "Flannel.slnx")))
                {
                    return Path.Combine(dir, "artifacts", "bin");
                }
            }

            throw new InvalidOperationException("cannot find artifacts/bin: set FLANNEL_BIN_DIR or run scripts/publish.sh");
        }
    }

    public const string CniPluginDir = "/usr/lib/cni";
}
