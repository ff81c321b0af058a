namespace Flanneld.Leases.Kubernetes;

/// <summary>
/// The store's knobs. Defaults are upstream's where upstream has one (3 s / 30 s waits, EVENT_QUEUE_DEPTH 5000);
/// tests shorten the waits.
/// </summary>
public sealed record KubeLeaseStoreSettings
{
    /// <summary>This node's name, as NODE_NAME gives it; null to look it up from POD_NAME / POD_NAMESPACE.</summary>
    public string? NodeName { get; init; }

    /// <summary>POD_NAME, used when <see cref="NodeName"/> is null.</summary>
    public string? PodName { get; init; }

    /// <summary>POD_NAMESPACE, used when <see cref="NodeName"/> is null.</summary>
    public string? PodNamespace { get; init; }

    /// <summary>--kube-annotation-prefix.</summary>
    public string AnnotationPrefix { get; init; } = KubeAnnotations.DefaultPrefix;

    /// <summary>--net-config-path.</summary>
    public string NetConfigPath { get; init; } = "/etc/kube-flannel/net-conf.json";

    /// <summary>--set-node-network-unavailable: set NetworkUnavailable=False once the daemon runs.</summary>
    public bool SetNodeNetworkUnavailable { get; init; } = true;

    /// <summary>--public-ip / --public-ipv6 were given: node-public-ip annotations then do not override them.</summary>
    public bool PublicIPFromFlag { get; init; }

    public bool PublicIPv6FromFlag { get; init; }

    /// <summary>EVENT_QUEUE_DEPTH: how many watch deliveries may wait for the daemon before the watch stops reading.</summary>
    public int EventQueueDepth { get; init; } = 5000;

    /// <summary>How often, and how long, to wait for the node's podCIDR and retry its annotation patch.</summary>
    public TimeSpan RetryInterval { get; init; } = TimeSpan.FromSeconds(3);

    public TimeSpan RetryTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Nodes per list page (limit/continue): bounds the memory a re-list of a large cluster needs. 100 realistic nodes
    /// are ~1 MB; at 500 (client-go's default) a 5,000-node list peaked 60 MiB higher (bench/kube/RESULTS.md).
    /// </summary>
    public int ListPageSize { get; init; } = 100;

    /// <summary>Each watch asks the server to end it after a random time in this range, as client-go's reflector does.</summary>
    public int MinWatchTimeoutSeconds { get; init; } = 300;

    public int MaxWatchTimeoutSeconds { get; init; } = 600;

    /// <summary>Reconnect backoff after a failed list or watch: doubling from the first to the second.</summary>
    public TimeSpan InitialBackoff { get; init; } = TimeSpan.FromMilliseconds(200);

    public TimeSpan MaxBackoff { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Watch nodes as PartialObjectMetadata (about a quarter of a Node's bytes: no status, no images) and fetch a node's
    /// podCIDR once, when it first carries flannel's annotations. Off (env KUBE_WATCH_FULL_NODES=true): whole Nodes, as
    /// upstream.
    /// </summary>
    public bool MetadataOnlyWatch { get; init; } = true;

    /// <summary>The lease expiry flannel reports in Kubernetes mode (nothing expires there; upstream says now + 24 h).</summary>
    public TimeSpan LeaseTtl { get; init; } = TimeSpan.FromHours(24);
}
