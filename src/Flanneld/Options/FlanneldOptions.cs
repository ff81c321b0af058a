using System.Net;

namespace Flanneld.Options;

/// <summary>
/// flanneld's settings, one property per upstream flag (the flag's name in the comment). Defaults are upstream's.
/// Produced by <see cref="FlagParser"/> from the command line and FLANNELD_* variables.
/// </summary>
public sealed record FlanneldOptions
{
    /// <summary>Keeps the etcd password out of ToString (and so out of any log line that prints the options).</summary>
    private bool PrintMembers(System.Text.StringBuilder builder)
    {
        builder.Append("EtcdEndpoints = ").AppendJoin(',', EtcdEndpoints)
            .Append(", EtcdPrefix = ").Append(EtcdPrefix)
            .Append(", EtcdPassword = ").Append(EtcdPassword is null ? "(none)" : "(redacted)")
            .Append(", KubeSubnetMgr = ").Append(KubeSubnetMgr)
            .Append(", SubnetFile = ").Append(SubnetFile);
        return true;
    }

    /// <summary>--etcd-endpoints (comma list).</summary>
    public IReadOnlyList<string> EtcdEndpoints { get; init; } = ["http://127.0.0.1:4001", "http://127.0.0.1:2379"];

    /// <summary>--etcd-prefix.</summary>
    public string EtcdPrefix { get; init; } = "/coreos.com/network";

    /// <summary>--etcd-keyfile.</summary>
    public string? EtcdKeyFile { get; init; }

    /// <summary>--etcd-certfile.</summary>
    public string? EtcdCertFile { get; init; }

    /// <summary>--etcd-cafile.</summary>
    public string? EtcdCaFile { get; init; }

    /// <summary>--etcd-username.</summary>
    public string? EtcdUsername { get; init; }

    /// <summary>--etcd-password. Never logged.</summary>
    public string? EtcdPassword { get; init; }

    /// <summary>--kube-subnet-mgr.</summary>
    public bool KubeSubnetMgr { get; init; }

    /// <summary>--kube-api-url.</summary>
    public string? KubeApiUrl { get; init; }

    /// <summary>--kubeconfig-file.</summary>
    public string? KubeconfigFile { get; init; }

    /// <summary>--kube-annotation-prefix.</summary>
    public string KubeAnnotationPrefix { get; init; } = "flannel.alpha.coreos.com";

    /// <summary>--iface (repeatable): interface names or IPs, tried in order.</summary>
    public IReadOnlyList<string> Iface { get; init; } = [];

    /// <summary>--iface-regex (repeatable).</summary>
    public IReadOnlyList<string> IfaceRegex { get; init; } = [];

    /// <summary>--iface-can-reach.</summary>
    public IPAddress? IfaceCanReach { get; init; }

    /// <summary>--public-ip.</summary>
    public IPAddress? PublicIP { get; init; }

    /// <summary>--public-ipv6.</summary>
    public IPAddress? PublicIPv6 { get; init; }

    /// <summary>--subnet-file.</summary>
    public string SubnetFile { get; init; } = "/run/flannel/subnet.env";

    /// <summary>--net-config-path (Kubernetes mode).</summary>
    public string NetConfigPath { get; init; } = "/etc/kube-flannel/net-conf.json";

    /// <summary>--subnet-lease-renew-margin, in minutes (1..1439).</summary>
    public int SubnetLeaseRenewMarginMinutes { get; init; } = 60;

    /// <summary>--ip-masq.</summary>
    public bool IpMasq { get; init; }

    /// <summary>--ip-masq-fully-random-disable.</summary>
    public bool IpMasqFullyRandomDisable { get; init; }

    /// <summary>--iptables-resync, in seconds.</summary>
    public int IptablesResyncSeconds { get; init; } = 5;

    /// <summary>--iptables-forward-rules.</summary>
    public bool IptablesForwardRules { get; init; } = true;

    /// <summary>--ip-blackhole-route.</summary>
    public bool IpBlackholeRoute { get; init; }

    /// <summary>--healthz-ip.</summary>
    public IPAddress HealthzIP { get; init; } = IPAddress.Any;

    /// <summary>--healthz-port (0 = off).</summary>
    public int HealthzPort { get; init; }

    /// <summary>--set-node-network-unavailable (Kubernetes mode).</summary>
    public bool SetNodeNetworkUnavailable { get; init; } = true;

    /// <summary>-v: log verbosity as klog counts it (0 = info; 1+ = debug; 4+ = trace).</summary>
    public int Verbosity { get; init; }

    /// <summary>-vmodule (klog): comma-separated pattern=N verbosity overrides; accepted for compatibility.</summary>
    public string? Vmodule { get; init; }

    /// <summary>-log_backtrace_at (klog): file.go:N; accepted for compatibility.</summary>
    public string? LogBacktraceAt { get; init; }

    /// <summary>--version: print the version and exit.</summary>
    public bool Version { get; init; }

    /// <summary>-h / --help was given: print <see cref="FlagParser.Usage"/> and exit 0 (as upstream).</summary>
    public bool Help { get; init; }

    /// <summary>
    /// --subnet-lease-ttl, Flannel.NET only: the etcd lease TTL (upstream fixes it at 24 h). Short values serve tests
    /// and fault drills; production keeps the default.
    /// </summary>
    public TimeSpan SubnetLeaseTtl { get; init; } = TimeSpan.FromHours(24);
}
