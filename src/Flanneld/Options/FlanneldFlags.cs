using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;
using Flannel.Core.Net;

namespace Flanneld.Options;

/// <summary>
/// Every flag upstream flanneld defines (main.go init(), plus the klog flags it copies), and Flannel.NET's
/// --subnet-lease-ttl, sorted by name as Go's flag package lists them.
/// </summary>
internal static class FlanneldFlags
{
    public static readonly IReadOnlyList<FlagDefinition> All = new List<FlagDefinition>
    {
        new("etcd-cafile", FlagKind.String, "", "TLS certificate authority file used to verify etcd",
            (o, v) => o with { EtcdCaFile = NullIfEmpty(v) }),
        new("etcd-certfile", FlagKind.String, "", "TLS client certificate file used to authenticate to etcd",
            (o, v) => o with { EtcdCertFile = NullIfEmpty(v) }),
        new("etcd-endpoints", FlagKind.String, "http://127.0.0.1:4001,http://127.0.0.1:2379", "comma-separated list of etcd endpoints",
            (o, v) => o with { EtcdEndpoints = ParseEndpoints(v) }),
        new("etcd-keyfile", FlagKind.String, "", "TLS client key file used to authenticate to etcd",
            (o, v) => o with { EtcdKeyFile = NullIfEmpty(v) }),
        new("etcd-password", FlagKind.String, "", "password for etcd basic authentication",
            (o, v) => o with { EtcdPassword = NullIfEmpty(v) }),
        new("etcd-prefix", FlagKind.String, "/coreos.com/network", "etcd key prefix of the network configuration and leases",
            (o, v) => o with { EtcdPrefix = v }),
        new("etcd-username", FlagKind.String, "", "username for etcd basic authentication",
            (o, v) => o with { EtcdUsername = NullIfEmpty(v) }),
        new("healthz-ip", FlagKind.String, "0.0.0.0", "IP address the healthz server listens on",
            (o, v) => o with { HealthzIP = v.Length == 0 ? IPAddress.Any : ParseIP(v) }),
        new("healthz-port", FlagKind.Int, "0", "port the healthz server listens on (0 disables it)",
            (o, v) => o with { HealthzPort = ParseInt(v, 0, 65535) }),
        new("iface", FlagKind.Value, "[]", "interface (name or IP) to use for inter-host traffic; repeat to try several in order, the first match wins",
            (o, v) => o with { Iface = [.. o.Iface, RequireNonEmpty(v)] })
        {
            // From the environment a comma-separated list, as it cannot be repeated there.
            SetFromEnvironment = (o, v) => o with { Iface = SplitList(v) is { Length: > 0 } ifaces ? ifaces : throw new FormatException("no interface given") },
        },
        new("iface-can-reach", FlagKind.String, "", "use the interface that the route to this IP goes through (as 'ip route get <ip>')",
            (o, v) => o with { IfaceCanReach = v.Length == 0 ? null : ParseIP(v) }),
        new("iface-regex", FlagKind.Value, "[]", "regular expression matched against interface IPs, then names; repeat to try several in order, after all --iface",
            (o, v) => o with { IfaceRegex = [.. o.IfaceRegex, ParseRegex(v)] }),
        new("ip-blackhole-route", FlagKind.Bool, "false", "keep a blackhole route for the local pod subnet",
            (o, v) => o with { IpBlackholeRoute = GoFlagValues.ParseBool(v) }),
        new("ip-masq", FlagKind.Bool, "false", "masquerade traffic from the pod network to destinations outside it",
            (o, v) => o with { IpMasq = GoFlagValues.ParseBool(v) }),
        new("ip-masq-fully-random-disable", FlagKind.Bool, "false", "do not use fully-random port mapping for masquerade",
            (o, v) => o with { IpMasqFullyRandomDisable = GoFlagValues.ParseBool(v) }),
        new("iptables-forward-rules", FlagKind.Bool, "true", "add FORWARD accept rules for the pod network",
            (o, v) => o with { IptablesForwardRules = GoFlagValues.ParseBool(v) }),
        new("iptables-resync", FlagKind.Int, "5", "seconds between checks that the firewall rules are in place",
            (o, v) => o with { IptablesResyncSeconds = ParseInt(v, 1, int.MaxValue) }),
        new("kube-annotation-prefix", FlagKind.String, "flannel.alpha.coreos.com", "prefix of the node annotations flannel writes; may contain one \"/\", else one is appended",
            (o, v) => o with { KubeAnnotationPrefix = v }),
        new("kube-api-url", FlagKind.String, "", "Kubernetes API server URL (not needed in a pod)",
            (o, v) => o with { KubeApiUrl = NullIfEmpty(v) }),
        new("kube-subnet-mgr", FlagKind.Bool, "false", "take subnets from the Kubernetes API instead of etcd",
            (o, v) => o with { KubeSubnetMgr = GoFlagValues.ParseBool(v) }),
        new("kubeconfig-file", FlagKind.String, "", "kubeconfig file (not needed in a pod)",
            (o, v) => o with { KubeconfigFile = NullIfEmpty(v) }),
        new("log_backtrace_at", FlagKind.Value, "", "when logging hits line file:N, emit a stack trace",
            (o, v) => o with { LogBacktraceAt = ParseTraceLocation(v) }),
        new("net-config-path", FlagKind.String, "/etc/kube-flannel/net-conf.json", "network configuration file (Kubernetes mode)",
            (o, v) => o with { NetConfigPath = v }),
        new("public-ip", FlagKind.String, "", "IPv4 address other nodes reach this node at",
            (o, v) => o with { PublicIP = v.Length == 0 ? null : ParseIPv4(v) }),
        new("public-ipv6", FlagKind.String, "", "IPv6 address other nodes reach this node at",
            (o, v) => o with { PublicIPv6 = v.Length == 0 ? null : ParseIPv6(v) }),
        new("set-node-network-unavailable", FlagKind.Bool, "true", "clear the node's NetworkUnavailable condition once ready (Kubernetes mode)",
            (o, v) => o with { SetNodeNetworkUnavailable = GoFlagValues.ParseBool(v) }),
        new("subnet-file", FlagKind.String, "/run/flannel/subnet.env", "file the subnet, MTU and masquerade settings are written to",
            (o, v) => o with { SubnetFile = v }),
        new("subnet-lease-renew-margin", FlagKind.Int, "60", "minutes before expiry to renew the subnet lease, 1 to 1439",
            (o, v) => o with { SubnetLeaseRenewMarginMinutes = ParseInt(v, 1, 1439) }),
        new("subnet-lease-ttl", FlagKind.Duration, "24h0m0s", "lifetime of a subnet lease in etcd, e.g. 24h, 30s, 1m30s (Flannel.NET; upstream fixes 24h)",
            (o, v) => o with { SubnetLeaseTtl = ParseLeaseTtl(v) }),
        new("v", FlagKind.Value, "0", "log level verbosity",
            (o, v) => o with { Verbosity = ParseVerbosity(v) }),
        new("version", FlagKind.Bool, "false", "print the version and exit",
            (o, v) => o with { Version = GoFlagValues.ParseBool(v) }),
        new("vmodule", FlagKind.Value, "", "comma-separated list of pattern=N settings for file-filtered logging",
            (o, v) => o with { Vmodule = ParseVmodule(v) }),
    };

    private static readonly Dictionary<string, FlagDefinition> ByName = All.ToDictionary(f => f.Name, StringComparer.Ordinal);

    public static FlagDefinition? Find(string name) => ByName.GetValueOrDefault(name);

    private static string? NullIfEmpty(string value) => value.Length == 0 ? null : value;

    private static string RequireNonEmpty(string value) =>
        value.Length > 0 ? value : throw new FormatException("must not be empty");

    private static string[] SplitList(string value) =>
        value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    private static string[] ParseEndpoints(string value)
    {
        string[] endpoints = SplitList(value);
        return endpoints.Length > 0 ? endpoints : throw new FormatException("no endpoint given");
    }

    private static int ParseInt(string value, int min, int max)
    {
        long number = GoFlagValues.ParseInt(value);
        return number >= min && number <= max
            ? (int)number
            : throw new FormatException(max == int.MaxValue
                ? string.Create(CultureInfo.InvariantCulture, $"must be at least {min}")
                : string.Create(CultureInfo.InvariantCulture, $"must be {min}..{max}"));
    }

    private static IPAddress ParseIPv4(string value) =>
        Ip4.TryParse(value, out uint address) ? Ip4.ToIPAddress(address) : throw new FormatException("not an IPv4 address");

    private static IPAddress ParseIPv6(string value) =>
        IsPlainIPv6(value) && Ip6.TryParse(value, out UInt128 address) ? Ip6.ToIPAddress(address) : throw new FormatException("not an IPv6 address");

    private static IPAddress ParseIP(string value)
    {
        if (Ip4.TryParse(value, out uint v4))
        {
            return Ip4.ToIPAddress(v4);
        }

        return IsPlainIPv6(value) && Ip6.TryParse(value, out UInt128 v6) ? Ip6.ToIPAddress(v6) : throw new FormatException("not an IP address");
    }

    // Ip6.TryParse relies on IPAddress.TryParse, which also accepts brackets, ports and dotted IPv4-mapped forms.
    private static bool IsPlainIPv6(string value) => value.Length > 0 && !value.AsSpan().ContainsAnyExcept(Ip6Chars);

    private static readonly System.Buffers.SearchValues<char> Ip6Chars = System.Buffers.SearchValues.Create("0123456789abcdefABCDEF:");

    private static string ParseRegex(string value)
    {
        try
        {
            _ = new Regex(value, RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1));
        }
        catch (ArgumentException e)
        {
            throw new FormatException($"invalid regular expression: {e.Message}", e);
        }

        return value;
    }

    private static TimeSpan ParseLeaseTtl(string value)
    {
        TimeSpan ttl = GoFlagValues.ParseDuration(value);
        return ttl >= TimeSpan.FromSeconds(1) ? ttl : throw new FormatException("must be at least 1s");
    }

    // klog's Level: a base-10 int32.
    private static int ParseVerbosity(string value) =>
        int.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int level)
            ? level
            : throw new FormatException(GoFlagValues.ParseError);

    // klog's moduleSpec: comma-separated pattern=N.
    private static string? ParseVmodule(string value)
    {
        foreach (string entry in value.Split(','))
        {
            if (entry.Length == 0)
            {
                continue;
            }

            string[] parts = entry.Split('=');
            if (parts.Length != 2 || parts[0].Length == 0
                || !int.TryParse(parts[1], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out _))
            {
                throw new FormatException("syntax error: expect comma-separated list of filename=N");
            }
        }

        return NullIfEmpty(value);
    }

    // klog's traceLocation: file.go:N with N > 0, or empty.
    private static string? ParseTraceLocation(string value)
    {
        if (value.Length == 0)
        {
            return null;
        }

        string[] parts = value.Split(':');
        if (parts.Length != 2 || !parts[0].Contains('.', StringComparison.Ordinal)
            || !int.TryParse(parts[1], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int line))
        {
            throw new FormatException("syntax error: expect file.go:234");
        }

        return line > 0 ? value : throw new FormatException("negative or zero value for level");
    }
}
