using System.Globalization;
using System.Net;
using Flannel.Core.Config;
using Flanneld.Options;

namespace Flanneld.Tests.Options;

public class FlagParserTests
{
    private static readonly Dictionary<string, string> NoEnvironment = [];

    [Fact]
    public void Parse_NoArguments_GivesUpstreamDefaults()
    {
        FlanneldOptions options = FlagParser.Parse([], NoEnvironment);

        Assert.Equal(["http://127.0.0.1:4001", "http://127.0.0.1:2379"], options.EtcdEndpoints);
        Assert.Equal("/coreos.com/network", options.EtcdPrefix);
        Assert.Null(options.EtcdKeyFile);
        Assert.False(options.KubeSubnetMgr);
        Assert.Equal("flannel.alpha.coreos.com", options.KubeAnnotationPrefix);
        Assert.Empty(options.Iface);
        Assert.Empty(options.IfaceRegex);
        Assert.Equal("/run/flannel/subnet.env", options.SubnetFile);
        Assert.Equal("/etc/kube-flannel/net-conf.json", options.NetConfigPath);
        Assert.Equal(60, options.SubnetLeaseRenewMarginMinutes);
        Assert.Equal(5, options.IptablesResyncSeconds);
        Assert.True(options.IptablesForwardRules);
        Assert.True(options.SetNodeNetworkUnavailable);
        Assert.Equal(IPAddress.Any, options.HealthzIP);
        Assert.Equal(0, options.HealthzPort);
        Assert.Equal(TimeSpan.FromHours(24), options.SubnetLeaseTtl);
        Assert.False(options.Help);
        Assert.False(options.Version);
    }

    [Theory]
    [InlineData("etcd-cafile", "/etc/ca.pem", "/etc/ca.pem")]
    [InlineData("etcd-certfile", "/etc/cert.pem", "/etc/cert.pem")]
    [InlineData("etcd-keyfile", "/etc/key.pem", "/etc/key.pem")]
    [InlineData("etcd-endpoints", "http://192.0.2.1:2379,https://192.0.2.2:2379", "http://192.0.2.1:2379|https://192.0.2.2:2379")]
    [InlineData("etcd-endpoints", " http://192.0.2.1:2379 ,,", "http://192.0.2.1:2379")]
    [InlineData("etcd-prefix", "/test/network", "/test/network")]
    [InlineData("etcd-username", "root", "root")]
    [InlineData("etcd-password", "s3cret", "s3cret")]
    [InlineData("kube-api-url", "https://192.0.2.1:6443", "https://192.0.2.1:6443")]
    [InlineData("kubeconfig-file", "/root/.kube/config", "/root/.kube/config")]
    [InlineData("kube-annotation-prefix", "example.com/x", "example.com/x")]
    [InlineData("iface", "eth0", "eth0")]
    [InlineData("iface-regex", "^192\\.0\\.2\\.", "^192\\.0\\.2\\.")]
    [InlineData("iface-can-reach", "192.0.2.9", "192.0.2.9")]
    [InlineData("iface-can-reach", "2001:db8::9", "2001:db8::9")]
    [InlineData("public-ip", "192.0.2.10", "192.0.2.10")]
    [InlineData("public-ipv6", "2001:db8::10", "2001:db8::10")]
    [InlineData("subnet-file", "/tmp/subnet.env", "/tmp/subnet.env")]
    [InlineData("net-config-path", "/tmp/net-conf.json", "/tmp/net-conf.json")]
    [InlineData("subnet-lease-renew-margin", "1", "1")]
    [InlineData("subnet-lease-renew-margin", "1439", "1439")]
    [InlineData("iptables-resync", "30", "30")]
    [InlineData("healthz-ip", "127.0.0.1", "127.0.0.1")]
    [InlineData("healthz-ip", "::1", "::1")]
    [InlineData("healthz-port", "8471", "8471")]
    [InlineData("healthz-port", "0x2000", "8192")]
    [InlineData("healthz-port", "0o17", "15")]
    [InlineData("healthz-port", "017", "15")]
    [InlineData("healthz-port", "0b11", "3")]
    [InlineData("healthz-port", "+0x1_F", "31")]
    [InlineData("subnet-lease-ttl", "24h", "1.00:00:00")]
    [InlineData("subnet-lease-ttl", "30s", "00:00:30")]
    [InlineData("subnet-lease-ttl", "1m30s", "00:01:30")]
    [InlineData("subnet-lease-ttl", "1.5h", "01:30:00")]
    [InlineData("subnet-lease-ttl", "1500ms", "00:00:01.5000000")]
    [InlineData("subnet-lease-ttl", "2h45m10.5s", "02:45:10.5000000")]
    [InlineData("v", "4", "4")]
    [InlineData("vmodule", "main=2,kube*=4", "main=2,kube*=4")]
    [InlineData("log_backtrace_at", "main.go:42", "main.go:42")]
    public void Parse_ValueFlag_SetsOption(string flag, string value, string expected)
    {
        Assert.Equal(expected, Get(FlagParser.Parse([$"--{flag}={value}"], NoEnvironment), flag));
        Assert.Equal(expected, Get(FlagParser.Parse([$"-{flag}", value], NoEnvironment), flag));
    }

    [Theory]
    [InlineData("kube-subnet-mgr", false)]
    [InlineData("ip-masq", false)]
    [InlineData("ip-masq-fully-random-disable", false)]
    [InlineData("iptables-forward-rules", true)]
    [InlineData("ip-blackhole-route", false)]
    [InlineData("set-node-network-unavailable", true)]
    public void Parse_BoolFlag_AcceptsGoSyntax(string flag, bool defaultValue)
    {
        Assert.Equal(defaultValue.ToString(), Get(FlagParser.Parse([], NoEnvironment), flag));
        Assert.Equal("True", Get(FlagParser.Parse([$"-{flag}"], NoEnvironment), flag));
        Assert.Equal("True", Get(FlagParser.Parse([$"--{flag}"], NoEnvironment), flag));
        foreach (string yes in new[] { "1", "t", "T", "TRUE", "true", "True" })
        {
            Assert.Equal("True", Get(FlagParser.Parse([$"--{flag}={yes}"], NoEnvironment), flag));
        }

        foreach (string no in new[] { "0", "f", "F", "FALSE", "false", "False" })
        {
            Assert.Equal("False", Get(FlagParser.Parse([$"--{flag}={no}"], NoEnvironment), flag));
        }
    }

    [Fact]
    public void Parse_VersionFlag_IsSet()
    {
        Assert.True(FlagParser.Parse(["--version"], NoEnvironment).Version);
    }

    // Go's flag package never reads a bool flag's value from the next argument: "false" is then a positional argument.
    [Fact]
    public void Parse_BoolFlagWithSeparateValue_IsRejected()
    {
        var e = Assert.Throws<ConfigException>(() => FlagParser.Parse(["--ip-masq", "false"], NoEnvironment));

        Assert.Contains("unexpected argument \"false\"", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_RepeatedIface_Accumulates()
    {
        FlanneldOptions options = FlagParser.Parse(["--iface=eth0", "-iface", "192.0.2.5", "--iface-regex", "^en", "-iface-regex=^eth"], NoEnvironment);

        Assert.Equal(["eth0", "192.0.2.5"], options.Iface);
        Assert.Equal(["^en", "^eth"], options.IfaceRegex);
    }

    // Upstream's flagSlice appends each value whole; a comma on the command line is not a separator.
    [Fact]
    public void Parse_IfaceWithCommaOnCommandLine_IsOneValue()
    {
        Assert.Equal(["eth0,eth1"], FlagParser.Parse(["--iface=eth0,eth1"], NoEnvironment).Iface);
    }

    [Fact]
    public void Parse_RepeatedScalarFlag_LastWins()
    {
        Assert.Equal(9090, FlagParser.Parse(["--healthz-port=8080", "--healthz-port", "9090"], NoEnvironment).HealthzPort);
    }

    [Fact]
    public void Parse_ValueStartingWithDash_IsTakenAsTheValue()
    {
        Assert.Equal("-odd", FlagParser.Parse(["--etcd-prefix", "-odd"], NoEnvironment).EtcdPrefix);
    }

    [Fact]
    public void Parse_DoubleDash_EndsFlags()
    {
        Assert.True(FlagParser.Parse(["--ip-masq", "--"], NoEnvironment).IpMasq);
    }

    [Fact]
    public void Parse_EmptyStringForOptionalFlags_LeavesThemUnset()
    {
        FlanneldOptions options = FlagParser.Parse(["--public-ip=", "--etcd-keyfile=", "--iface-can-reach="], NoEnvironment);

        Assert.Null(options.PublicIP);
        Assert.Null(options.EtcdKeyFile);
        Assert.Null(options.IfaceCanReach);
    }

    [Theory]
    [InlineData("-h")]
    [InlineData("--help")]
    [InlineData("-help")]
    public void Parse_Help_ReturnsHelpRequest(string arg)
    {
        Assert.True(FlagParser.Parse(["--ip-masq", arg, "--no-such-flag"], NoEnvironment).Help);
    }

    [Theory]
    [InlineData("FLANNELD_ETCD_ENDPOINTS", "http://192.0.2.1:2379", "etcd-endpoints", "http://192.0.2.1:2379")]
    [InlineData("FLANNELD_ETCD_PREFIX", "/env/network", "etcd-prefix", "/env/network")]
    [InlineData("FLANNELD_ETCD_KEYFILE", "/k", "etcd-keyfile", "/k")]
    [InlineData("FLANNELD_ETCD_CERTFILE", "/c", "etcd-certfile", "/c")]
    [InlineData("FLANNELD_ETCD_CAFILE", "/a", "etcd-cafile", "/a")]
    [InlineData("FLANNELD_ETCD_USERNAME", "u", "etcd-username", "u")]
    [InlineData("FLANNELD_ETCD_PASSWORD", "p", "etcd-password", "p")]
    [InlineData("FLANNELD_KUBE_SUBNET_MGR", "true", "kube-subnet-mgr", "True")]
    [InlineData("FLANNELD_KUBE_API_URL", "https://k", "kube-api-url", "https://k")]
    [InlineData("FLANNELD_KUBECONFIG_FILE", "/kc", "kubeconfig-file", "/kc")]
    [InlineData("FLANNELD_KUBE_ANNOTATION_PREFIX", "example.org", "kube-annotation-prefix", "example.org")]
    [InlineData("FLANNELD_IFACE", "eth0, eth1,,192.0.2.7", "iface", "eth0|eth1|192.0.2.7")]
    [InlineData("FLANNELD_IFACE_REGEX", "^(eth|en)[0-9]{1,2}$", "iface-regex", "^(eth|en)[0-9]{1,2}$")]
    [InlineData("FLANNELD_IFACE_CAN_REACH", "192.0.2.1", "iface-can-reach", "192.0.2.1")]
    [InlineData("FLANNELD_PUBLIC_IP", "192.0.2.3", "public-ip", "192.0.2.3")]
    [InlineData("FLANNELD_PUBLIC_IPV6", "2001:db8::3", "public-ipv6", "2001:db8::3")]
    [InlineData("FLANNELD_SUBNET_FILE", "/s", "subnet-file", "/s")]
    [InlineData("FLANNELD_NET_CONFIG_PATH", "/n", "net-config-path", "/n")]
    [InlineData("FLANNELD_SUBNET_LEASE_RENEW_MARGIN", "5", "subnet-lease-renew-margin", "5")]
    [InlineData("FLANNELD_SUBNET_LEASE_TTL", "90s", "subnet-lease-ttl", "00:01:30")]
    [InlineData("FLANNELD_IP_MASQ", "1", "ip-masq", "True")]
    [InlineData("FLANNELD_IP_MASQ_FULLY_RANDOM_DISABLE", "t", "ip-masq-fully-random-disable", "True")]
    [InlineData("FLANNELD_IPTABLES_RESYNC", "7", "iptables-resync", "7")]
    [InlineData("FLANNELD_IPTABLES_FORWARD_RULES", "false", "iptables-forward-rules", "False")]
    [InlineData("FLANNELD_IP_BLACKHOLE_ROUTE", "TRUE", "ip-blackhole-route", "True")]
    [InlineData("FLANNELD_HEALTHZ_IP", "127.0.0.1", "healthz-ip", "127.0.0.1")]
    [InlineData("FLANNELD_HEALTHZ_PORT", "8471", "healthz-port", "8471")]
    [InlineData("FLANNELD_SET_NODE_NETWORK_UNAVAILABLE", "False", "set-node-network-unavailable", "False")]
    [InlineData("FLANNELD_V", "2", "v", "2")]
    [InlineData("FLANNELD_VMODULE", "x=1", "vmodule", "x=1")]
    [InlineData("FLANNELD_LOG_BACKTRACE_AT", "a.go:1", "log_backtrace_at", "a.go:1")]
    public void Parse_EnvironmentVariable_SetsFlagNotOnCommandLine(string variable, string value, string flag, string expected)
    {
        Assert.Equal(expected, Get(FlagParser.Parse([], new Dictionary<string, string> { [variable] = value }), flag));
    }

    [Fact]
    public void Parse_FlagOnCommandLine_WinsOverEnvironment()
    {
        var environment = new Dictionary<string, string>
        {
            ["FLANNELD_ETCD_PREFIX"] = "/env",
            ["FLANNELD_IFACE"] = "eth9",
            ["FLANNELD_IP_MASQ"] = "true",
            ["FLANNELD_HEALTHZ_PORT"] = "not-a-number",
        };

        FlanneldOptions options = FlagParser.Parse(["--etcd-prefix=/cli", "--iface=eth0", "--ip-masq=false", "--healthz-port=1"], environment);

        Assert.Equal("/cli", options.EtcdPrefix);
        Assert.Equal(["eth0"], options.Iface);
        Assert.False(options.IpMasq);
        Assert.Equal(1, options.HealthzPort);
    }

    [Fact]
    public void Parse_EmptyEnvironmentValue_IsIgnored()
    {
        var environment = new Dictionary<string, string> { ["FLANNELD_ETCD_PREFIX"] = "", ["FLANNELD_HEALTHZ_PORT"] = "" };

        FlanneldOptions options = FlagParser.Parse([], environment);

        Assert.Equal("/coreos.com/network", options.EtcdPrefix);
        Assert.Equal(0, options.HealthzPort);
    }

    // Upstream checks --version before reading FLANNELD_*: a bad variable cannot stop --version, and
    // FLANNELD_VERSION does nothing.
    [Fact]
    public void Parse_Version_SkipsEnvironment()
    {
        var environment = new Dictionary<string, string> { ["FLANNELD_HEALTHZ_PORT"] = "bad" };

        Assert.True(FlagParser.Parse(["-version"], environment).Version);
        Assert.False(FlagParser.Parse([], new Dictionary<string, string> { ["FLANNELD_VERSION"] = "true" }).Version);
    }

    [Theory]
    [InlineData(new[] { "--foo" }, "flag provided but not defined: -foo")]
    [InlineData(new[] { "-foo=1" }, "flag provided but not defined: -foo")]
    [InlineData(new[] { "--healthz-port=abc" }, "invalid value \"abc\" for flag -healthz-port: parse error")]
    [InlineData(new[] { "--healthz-port", "99999999999999999999" }, "invalid value \"99999999999999999999\" for flag -healthz-port: value out of range")]
    [InlineData(new[] { "--healthz-port=65536" }, "invalid value \"65536\" for flag -healthz-port: must be 0..65535")]
    [InlineData(new[] { "--healthz-port=1_000" }, "invalid value \"1_000\" for flag -healthz-port: parse error")]
    [InlineData(new[] { "--healthz-port=08" }, "invalid value \"08\" for flag -healthz-port: parse error")]
    [InlineData(new[] { "--subnet-lease-renew-margin=0" }, "invalid value \"0\" for flag -subnet-lease-renew-margin: must be 1..1439")]
    [InlineData(new[] { "--subnet-lease-renew-margin=1440" }, "invalid value \"1440\" for flag -subnet-lease-renew-margin: must be 1..1439")]
    [InlineData(new[] { "--iptables-resync=0" }, "invalid value \"0\" for flag -iptables-resync: must be at least 1")]
    [InlineData(new[] { "--ip-masq=yes" }, "invalid boolean value \"yes\" for -ip-masq: parse error")]
    [InlineData(new[] { "--ip-masq=" }, "invalid boolean value \"\" for -ip-masq: parse error")]
    [InlineData(new[] { "--etcd-prefix" }, "flag needs an argument: -etcd-prefix")]
    [InlineData(new[] { "---iface=x" }, "bad flag syntax: ---iface=x")]
    [InlineData(new[] { "-=x" }, "bad flag syntax: -=x")]
    [InlineData(new[] { "eth0" }, "unexpected argument \"eth0\"")]
    [InlineData(new[] { "--", "--ip-masq" }, "unexpected argument \"--ip-masq\"")]
    [InlineData(new[] { "--public-ip=2001:db8::1" }, "invalid value \"2001:db8::1\" for flag -public-ip: not an IPv4 address")]
    [InlineData(new[] { "--public-ip=192.0.2.300" }, "invalid value \"192.0.2.300\" for flag -public-ip: not an IPv4 address")]
    [InlineData(new[] { "--public-ipv6=192.0.2.1" }, "invalid value \"192.0.2.1\" for flag -public-ipv6: not an IPv6 address")]
    [InlineData(new[] { "--public-ipv6=::ffff:192.0.2.1" }, "invalid value \"::ffff:192.0.2.1\" for flag -public-ipv6: not an IPv6 address")]
    [InlineData(new[] { "--public-ipv6=[2001:db8::1]" }, "invalid value \"[2001:db8::1]\" for flag -public-ipv6: not an IPv6 address")]
    [InlineData(new[] { "--healthz-ip=localhost" }, "invalid value \"localhost\" for flag -healthz-ip: not an IP address")]
    [InlineData(new[] { "--iface-can-reach=example" }, "invalid value \"example\" for flag -iface-can-reach: not an IP address")]
    [InlineData(new[] { "--iface=" }, "invalid value \"\" for flag -iface: must not be empty")]
    [InlineData(new[] { "--iface-regex=(" }, "invalid value \"(\" for flag -iface-regex: invalid regular expression")]
    [InlineData(new[] { "--etcd-endpoints=," }, "invalid value \",\" for flag -etcd-endpoints: no endpoint given")]
    [InlineData(new[] { "--subnet-lease-ttl=24" }, "invalid value \"24\" for flag -subnet-lease-ttl: missing unit")]
    [InlineData(new[] { "--subnet-lease-ttl=1d" }, "invalid value \"1d\" for flag -subnet-lease-ttl: parse error")]
    [InlineData(new[] { "--subnet-lease-ttl=500ms" }, "invalid value \"500ms\" for flag -subnet-lease-ttl: must be at least 1s")]
    [InlineData(new[] { "--subnet-lease-ttl=-1h" }, "invalid value \"-1h\" for flag -subnet-lease-ttl: must be at least 1s")]
    [InlineData(new[] { "--subnet-lease-ttl=3000000h" }, "invalid value \"3000000h\" for flag -subnet-lease-ttl: value out of range")]
    [InlineData(new[] { "--subnet-lease-ttl=." }, "invalid value \".\" for flag -subnet-lease-ttl: parse error")]
    [InlineData(new[] { "-v=high" }, "invalid value \"high\" for flag -v: parse error")]
    [InlineData(new[] { "-vmodule=main" }, "invalid value \"main\" for flag -vmodule: syntax error: expect comma-separated list of filename=N")]
    [InlineData(new[] { "-log_backtrace_at=main:1" }, "invalid value \"main:1\" for flag -log_backtrace_at: syntax error: expect file.go:234")]
    public void Parse_BadCommandLine_ThrowsNamingTheFlag(string[] args, string message)
    {
        var e = Assert.Throws<ConfigException>(() => FlagParser.Parse(args, NoEnvironment));

        Assert.Contains(message, e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("FLANNELD_HEALTHZ_PORT", "abc", "invalid value \"abc\" for FLANNELD_HEALTHZ_PORT: parse error")]
    [InlineData("FLANNELD_IP_MASQ", "yes", "invalid value \"yes\" for FLANNELD_IP_MASQ: parse error")]
    [InlineData("FLANNELD_SUBNET_LEASE_RENEW_MARGIN", "2000", "invalid value \"2000\" for FLANNELD_SUBNET_LEASE_RENEW_MARGIN: must be 1..1439")]
    [InlineData("FLANNELD_PUBLIC_IP", "nope", "invalid value \"nope\" for FLANNELD_PUBLIC_IP: not an IPv4 address")]
    [InlineData("FLANNELD_IFACE", ",", "invalid value \",\" for FLANNELD_IFACE")]
    public void Parse_BadEnvironmentValue_ThrowsNamingTheVariable(string variable, string value, string message)
    {
        var e = Assert.Throws<ConfigException>(() => FlagParser.Parse([], new Dictionary<string, string> { [variable] = value }));

        Assert.Contains(message, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_BadValue_KeyIsTheFlagOrTheVariable()
    {
        Assert.Equal("healthz-port", Assert.Throws<ConfigException>(() => FlagParser.Parse(["--healthz-port=x"], NoEnvironment)).Key);
        Assert.Equal("FLANNELD_HEALTHZ_PORT", Assert.Throws<ConfigException>(
            () => FlagParser.Parse([], new Dictionary<string, string> { ["FLANNELD_HEALTHZ_PORT"] = "x" })).Key);
        Assert.Equal("foo", Assert.Throws<ConfigException>(() => FlagParser.Parse(["--foo"], NoEnvironment)).Key);
    }

    // Go's PrintDefaults lists flags sorted by name.
    [Fact]
    public void Usage_ListsFlagsSortedByName()
    {
        string[] names = FlagParser.Usage.Split('\n')
            .Where(line => line.StartsWith("  -", StringComparison.Ordinal))
            .Select(line => line[3..].Split(' ', '\t')[0])
            .ToArray();

        Assert.Equal(32, names.Length);
        Assert.Equal(names.Order(StringComparer.Ordinal), names);
    }

    [Fact]
    public void Usage_ListsEveryFlagWithItsDefault()
    {
        string usage = FlagParser.Usage;

        Assert.StartsWith("Usage: flanneld [OPTION]...\n", usage, StringComparison.Ordinal);
        foreach (string flag in new[]
        {
            "etcd-endpoints", "etcd-prefix", "etcd-keyfile", "etcd-certfile", "etcd-cafile", "etcd-username", "etcd-password",
            "kube-subnet-mgr", "kube-api-url", "kubeconfig-file", "kube-annotation-prefix", "iface", "iface-regex",
            "iface-can-reach", "public-ip", "public-ipv6", "subnet-file", "net-config-path", "subnet-lease-renew-margin",
            "ip-masq", "ip-masq-fully-random-disable", "iptables-resync", "iptables-forward-rules", "ip-blackhole-route",
            "healthz-ip", "healthz-port", "set-node-network-unavailable", "version", "v", "vmodule", "log_backtrace_at",
            "subnet-lease-ttl",
        })
        {
            Assert.Contains($"\n  -{flag}", usage, StringComparison.Ordinal);
        }

        Assert.Contains("  -etcd-endpoints string\n    \t", usage, StringComparison.Ordinal);
        Assert.Contains("(default \"http://127.0.0.1:4001,http://127.0.0.1:2379\")", usage, StringComparison.Ordinal);
        Assert.Contains("(default \"/coreos.com/network\")", usage, StringComparison.Ordinal);
        Assert.Contains("  -iptables-resync int\n", usage, StringComparison.Ordinal);
        Assert.Contains("(default 5)", usage, StringComparison.Ordinal);
        Assert.Contains("(default 60)", usage, StringComparison.Ordinal);
        Assert.Contains("(default true)", usage, StringComparison.Ordinal);
        Assert.Contains("(default 24h0m0s)", usage, StringComparison.Ordinal);
        Assert.Contains("  -ip-masq\n    \t", usage, StringComparison.Ordinal);
        Assert.Contains("  -v value\n", usage, StringComparison.Ordinal);
        Assert.DoesNotContain("(default false)", usage, StringComparison.Ordinal);
        Assert.DoesNotContain("(default 0)", usage, StringComparison.Ordinal);
    }

    private static string Get(FlanneldOptions o, string flag) => flag switch
    {
        "etcd-cafile" => o.EtcdCaFile ?? "",
        "etcd-certfile" => o.EtcdCertFile ?? "",
        "etcd-keyfile" => o.EtcdKeyFile ?? "",
        "etcd-endpoints" => string.Join('|', o.EtcdEndpoints),
        "etcd-prefix" => o.EtcdPrefix,
        "etcd-username" => o.EtcdUsername ?? "",
        "etcd-password" => o.EtcdPassword ?? "",
        "kube-subnet-mgr" => o.KubeSubnetMgr.ToString(),
        "kube-api-url" => o.KubeApiUrl ?? "",
        "kubeconfig-file" => o.KubeconfigFile ?? "",
        "kube-annotation-prefix" => o.KubeAnnotationPrefix,
        "iface" => string.Join('|', o.Iface),
        "iface-regex" => string.Join('|', o.IfaceRegex),
        "iface-can-reach" => o.IfaceCanReach?.ToString() ?? "",
        "public-ip" => o.PublicIP?.ToString() ?? "",
        "public-ipv6" => o.PublicIPv6?.ToString() ?? "",
        "subnet-file" => o.SubnetFile,
        "net-config-path" => o.NetConfigPath,
        "subnet-lease-renew-margin" => o.SubnetLeaseRenewMarginMinutes.ToString(CultureInfo.InvariantCulture),
        "subnet-lease-ttl" => o.SubnetLeaseTtl.ToString("c", CultureInfo.InvariantCulture),
        "ip-masq" => o.IpMasq.ToString(),
        "ip-masq-fully-random-disable" => o.IpMasqFullyRandomDisable.ToString(),
        "iptables-resync" => o.IptablesResyncSeconds.ToString(CultureInfo.InvariantCulture),
        "iptables-forward-rules" => o.IptablesForwardRules.ToString(),
        "ip-blackhole-route" => o.IpBlackholeRoute.ToString(),
        "healthz-ip" => o.HealthzIP.ToString(),
        "healthz-port" => o.HealthzPort.ToString(CultureInfo.InvariantCulture),
        "set-node-network-unavailable" => o.SetNodeNetworkUnavailable.ToString(),
        "v" => o.Verbosity.ToString(CultureInfo.InvariantCulture),
        "vmodule" => o.Vmodule ?? "",
        "log_backtrace_at" => o.LogBacktraceAt ?? "",
        _ => throw new ArgumentException($"no getter for {flag}", nameof(flag)),
    };
}
