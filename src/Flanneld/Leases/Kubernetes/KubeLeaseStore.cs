using System.Buffers;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using System.Threading.Channels;
using Flannel.Core.Config;
using Flannel.Core.Leases;
using Flannel.Core.Net;
using Flanneld.Options;
using k8s;
using Microsoft.Extensions.Logging;

namespace Flanneld.Leases.Kubernetes;

/// <summary>
/// Leases in Kubernetes mode (<c>--kube-subnet-mgr</c>, upstream's kubeSubnetManager): a node's lease is its
/// spec.podCIDR(s), assigned by the controller manager; flannel only advertises its attributes as node annotations
/// and learns its peers by watching every Node.
/// </summary>
public sealed class KubeLeaseStore : ILeaseStore, IDisposable
{
    private const string StrategicMergePatch = "application/strategic-merge-patch+json";
    private readonly KubeApiClient _api;
    private readonly KubeLeaseStoreSettings _settings;
    private readonly NodeLeaseConverter _converter;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly SemaphoreSlim _nodeNameLock = new(1, 1);
    private string? _nodeName;
    private NetConfig? _config;
    private int _networkAvailableStarted;

    internal KubeLeaseStore(KubeApiClient api, KubeLeaseStoreSettings settings, ILogger logger, TimeProvider time)
    {
        _api = api;
        _settings = settings;
        _converter = new NodeLeaseConverter(KubeAnnotations.Create(settings.AnnotationPrefix));
        _logger = logger;
        _time = time;
        _nodeName = string.IsNullOrEmpty(settings.NodeName) ? null : settings.NodeName;
    }

    /// <summary>The annotation names in use.</summary>
    public KubeAnnotations Annotations => _converter.Names;

    /// <summary>Response bytes read from the API server so far (lists, watches, gets).</summary>
    public long BytesReceived => _api.BytesReceived;

    /// <summary>
    /// The store as flanneld's flags and environment describe it: <c>--kubeconfig-file</c> and/or <c>--kube-api-url</c>,
    /// else the in-cluster service account; NODE_NAME (or POD_NAME + POD_NAMESPACE); EVENT_QUEUE_DEPTH.
    /// </summary>
    public static KubeLeaseStore Create(FlanneldOptions options, ILogger logger, Func<string, string?>? environment = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        environment ??= Environment.GetEnvironmentVariable;
        KubernetesClientConfiguration configuration = BuildConfiguration(options);
        KubeLeaseStoreSettings settings = SettingsFrom(options, environment);
        var api = KubeApiClient.FromConfiguration(configuration);
        KubeLog.Started(logger, settings.NodeName ?? $"of pod {settings.PodNamespace}/{settings.PodName}", configuration.Host);
        return new KubeLeaseStore(api, settings, logger, TimeProvider.System);
    }

    /// <summary>Upstream's BuildConfigFromFlags: kubeconfig (with the URL as server override), URL alone, else in-cluster.</summary>
    internal static KubernetesClientConfiguration BuildConfiguration(FlanneldOptions options)
    {
        if (!string.IsNullOrEmpty(options.KubeconfigFile))
        {
            try
            {
                return KubernetesClientConfiguration.BuildConfigFromConfigFile(options.KubeconfigFile, null, string.IsNullOrEmpty(options.KubeApiUrl) ? null : options.KubeApiUrl);
            }
            catch (Exception ex) when (ex is IOException or k8s.Exceptions.KubeConfigException or UnauthorizedAccessException)
            {
                throw new ConfigException($"--kubeconfig-file={options.KubeconfigFile}: fail to create kubernetes config: {ex.Message}", ex);
            }
        }

        if (!string.IsNullOrEmpty(options.KubeApiUrl))
        {
            if (!Uri.TryCreate(options.KubeApiUrl, UriKind.Absolute, out _))
            {
                throw new ConfigException("--kube-api-url", $"--kube-api-url={options.KubeApiUrl}: not an absolute URL");
            }

            return new KubernetesClientConfiguration { Host = options.KubeApiUrl };
        }

        if (!KubernetesClientConfiguration.IsInCluster())
        {
            throw new ConfigException("--kube-subnet-mgr: neither --kube-api-url nor --kubeconfig-file was given, and this is not a pod (no KUBERNETES_SERVICE_HOST / service account token)");
        }

        return KubernetesClientConfiguration.InClusterConfig();
    }

    internal static KubeLeaseStoreSettings SettingsFrom(FlanneldOptions options, Func<string, string?> environment)
    {
        int depth = 5000;
        string? depthText = environment("EVENT_QUEUE_DEPTH");
        if (!string.IsNullOrEmpty(depthText))
        {
            if (!int.TryParse(depthText, NumberStyles.Integer, CultureInfo.InvariantCulture, out int n))
            {
                throw new ConfigException("EVENT_QUEUE_DEPTH", $"env EVENT_QUEUE_DEPTH={depthText} format error: not an integer");
            }

            depth = n > 0 ? n : depth;
        }

        string? nodeName = environment("NODE_NAME");
        string? podName = environment("POD_NAME");
        string? podNamespace = environment("POD_NAMESPACE");
        if (string.IsNullOrEmpty(nodeName) && (string.IsNullOrEmpty(podName) || string.IsNullOrEmpty(podNamespace)))
        {
            throw new ConfigException("NODE_NAME", "env variables POD_NAME and POD_NAMESPACE must be set (or NODE_NAME)");
        }

        return new KubeLeaseStoreSettings
        {
            NodeName = string.IsNullOrEmpty(nodeName) ? null : nodeName,
            PodName = podName,
            PodNamespace = podNamespace,
            AnnotationPrefix = options.KubeAnnotationPrefix,
            NetConfigPath = options.NetConfigPath,
            SetNodeNetworkUnavailable = options.SetNodeNetworkUnavailable,
            PublicIPFromFlag = options.PublicIP is not null,
            PublicIPv6FromFlag = options.PublicIPv6 is not null,
            EventQueueDepth = depth,
            MetadataOnlyWatch = !string.Equals(environment("KUBE_WATCH_FULL_NODES"), "true", StringComparison.OrdinalIgnoreCase),
        };
    }

    /// <summary>Reads and parses <c>--net-config-path</c> (Kubernetes mode keeps net-conf in a ConfigMap file).</summary>
    public async Task<NetConfig> GetNetworkConfigAsync(CancellationToken cancellationToken)
    {
        string text;
        try
        {
            text = await File.ReadAllTextAsync(_settings.NetConfigPath, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new IOException($"failed to read net conf {_settings.NetConfigPath}: {ex.Message}", ex);
        }

        // Kubernetes mode only parses the file, as upstream: the podCIDRs are assigned by the cluster, not by us.
        NetConfig config = NetConfigParser.Decode(text);
        _config = config;
        return config;
    }

    /// <summary>This node's name: NODE_NAME, or the spec.nodeName of pod POD_NAMESPACE/POD_NAME.</summary>
    public async Task<string> GetNodeNameAsync(CancellationToken cancellationToken)
    {
        if (_nodeName is { } known)
        {
            return known;
        }

        await _nodeNameLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_nodeName is null)
            {
                string podNamespace = _settings.PodNamespace ?? "";
                string podName = _settings.PodName ?? "";
                string? nodeName;
                try
                {
                    nodeName = await _api.GetPodNodeNameAsync(podNamespace, podName, cancellationToken).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is KubeApiException or HttpRequestException)
                {
                    throw new KubeApiException($"error retrieving pod spec for '{podNamespace}/{podName}': {ex.Message}", ex);
                }

                _nodeName = string.IsNullOrEmpty(nodeName)
                    ? throw new KubeApiException($"node name not present in pod spec '{podNamespace}/{podName}'")
                    : nodeName;
            }

            return _nodeName;
        }
        finally
        {
            _nodeNameLock.Release();
        }
    }

    /// <summary>
    /// Waits (every 3 s, up to 30 s) for this node's podCIDR, writes our annotations on it (nodes/status, strategic
    /// merge, only what differs), and returns the lease: the podCIDR(s), checked to lie in Network / IPv6Network.
    /// </summary>
    public async Task<Lease> AcquireLeaseAsync(LeaseRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        _config ??= request.Config;
        string name = await GetNodeNameAsync(cancellationToken).ConfigureAwait(false);
        DateTimeOffset deadline = _time.GetUtcNow() + _settings.RetryTimeout;
        bool waitLogged = false;
        Exception? lastError = null;
        while (true)
        {
            NodeInfo? node = null;
            try
            {
                node = await _api.GetNodeAsync(name, Annotations.Prefix, cancellationToken).ConfigureAwait(false);
                lastError = null;
                if (!string.IsNullOrEmpty(node.PodCidr))
                {
                    return await AcquireOnNodeAsync(node, request, cancellationToken).ConfigureAwait(false);
                }
            }
            catch (Exception ex) when ((ex is KubeApiException or HttpRequestException or TimeoutException) && _time.GetUtcNow() < deadline)
            {
                lastError = ex;
                KubeLog.AcquireRetry(_logger, name, _settings.RetryInterval, ex.Message);
            }

            if (_time.GetUtcNow() >= deadline)
            {
                // A node that could not even be read (missing, forbidden) says so, not that it lacks a podCIDR.
                throw lastError is null
                    ? new InvalidOperationException($"node \"{name}\" pod cidr not assigned")
                    : new KubeApiException($"node \"{name}\": {lastError.Message}", lastError);
            }

            if (node is not null && !waitLogged)
            {
                KubeLog.WaitingForPodCidr(_logger, name);
                waitLogged = true;
            }

            await Task.Delay(_settings.RetryInterval, _time, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Nothing expires in Kubernetes mode: the lease is the node's podCIDR. Reports a fresh expiry.</summary>
    public Task<Lease> RenewLeaseAsync(Lease lease, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(lease);
        return Task.FromResult(lease with { Expiration = _time.GetUtcNow() + _settings.LeaseTtl });
    }

    /// <summary>
    /// Every node's lease: a snapshot after each (re-)list, then changes. The first call also sets this node's
    /// NetworkUnavailable=False condition (when <c>--set-node-network-unavailable</c>): the daemon starts watching
    /// peers once subnet.env is written, which is when upstream's CompleteLease sets it.
    /// </summary>
    public async IAsyncEnumerable<LeaseWatchBatch> WatchLeasesAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        NetConfig? config = _config;
        bool enableIPv4 = config?.EnableIPv4 ?? true;
        bool enableIPv6 = config?.EnableIPv6 ?? false;
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        Task available = _settings.SetNodeNetworkUnavailable && Interlocked.Exchange(ref _networkAvailableStarted, 1) == 0
            ? SetNetworkAvailableWithRetryAsync(stop.Token)
            : Task.CompletedTask;

        var channel = Channel.CreateBounded<LeaseWatchBatch>(new BoundedChannelOptions(_settings.EventQueueDepth)
        {
            SingleReader = true,
            SingleWriter = true,
            FullMode = BoundedChannelFullMode.Wait,
        });
        var watch = new NodeLeaseWatch(_api, _converter, _settings, enableIPv4, enableIPv6, _logger, _time, channel.Writer);
        Task loop = Task.Run(
            async () =>
            {
                try
                {
                    await watch.RunAsync(stop.Token).ConfigureAwait(false);
                }
                finally
                {
                    channel.Writer.TryComplete();
                }
            },
            CancellationToken.None);

        try
        {
            var events = new List<LeaseEvent>();
            while (await channel.Reader.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
            {
                // Everything already queued goes out as one delivery: a snapshot on its own, events together.
                while (channel.Reader.TryPeek(out LeaseWatchBatch? next))
                {
                    if (next.IsSnapshot)
                    {
                        if (events.Count > 0)
                        {
                            break;
                        }

                        channel.Reader.TryRead(out _);
                        yield return next;
                        continue;
                    }

                    channel.Reader.TryRead(out _);
                    events.AddRange(next.Events);
                }

                if (events.Count > 0)
                {
                    yield return LeaseWatchBatch.FromEvents(events.ToArray());
                    events.Clear();
                }
            }
        }
        finally
        {
            await stop.CancelAsync().ConfigureAwait(false);
            await Task.WhenAll(loop, available).ContinueWith(static _ => { }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default).ConfigureAwait(false);
        }

        cancellationToken.ThrowIfCancellationRequested();
    }

    public async Task<LeaseAttrs?> GetStoredAttrsAsync(IPAddress publicIP, CancellationToken cancellationToken)
    {
        StoredBackendData stored = await GetStoredBackendDataAsync(cancellationToken).ConfigureAwait(false);
        if (stored.BackendType is null)
        {
            return null;
        }

        // An IPv6-only node asks by its PublicIPv6; keep each address in its family's field.
        bool v6 = publicIP.AddressFamily == AddressFamily.InterNetworkV6;
        return new LeaseAttrs(v6 ? IPAddress.Any : publicIP, v6 ? publicIP : null, stored.BackendType, stored.BackendData, stored.BackendV6Data);
    }

    /// <summary>This node's backend-type / backend-data / backend-v6-data as last advertised (empty when never).</summary>
    public async Task<StoredBackendData> GetStoredBackendDataAsync(CancellationToken cancellationToken)
    {
        string name = await GetNodeNameAsync(cancellationToken).ConfigureAwait(false);
        NodeInfo node = await _api.GetNodeAsync(name, Annotations.Prefix, cancellationToken).ConfigureAwait(false);
        return new StoredBackendData(
            node.Annotation(Annotations.BackendType),
            NullIfJsonNull(node.Annotation(Annotations.BackendData)),
            NullIfJsonNull(node.Annotation(Annotations.BackendV6Data)));
    }

    /// <summary>
    /// The node-public-ip / node-public-ipv6 annotations (set by the cluster admin): the addresses to advertise when
    /// --public-ip / --public-ipv6 are not given.
    /// </summary>
    public async Task<(IPAddress? PublicIP, IPAddress? PublicIPv6)> GetNodePublicIPAsync(CancellationToken cancellationToken)
    {
        string name = await GetNodeNameAsync(cancellationToken).ConfigureAwait(false);
        NodeInfo node = await _api.GetNodeAsync(name, Annotations.Prefix, cancellationToken).ConfigureAwait(false);
        return (ParseAnnotatedAddress(node, Annotations.NodePublicIP, v6: false), ParseAnnotatedAddress(node, Annotations.NodePublicIPv6, v6: true));
    }

    /// <summary>Sets condition NetworkUnavailable=False (reason FlannelIsUp) on this node, as upstream's CompleteLease.</summary>
    public async Task SetNetworkAvailableAsync(CancellationToken cancellationToken)
    {
        string name = await GetNodeNameAsync(cancellationToken).ConfigureAwait(false);
        string now = _time.GetUtcNow().UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteStartObject("status");
            writer.WriteStartArray("conditions");
            writer.WriteStartObject();
            writer.WriteString("type", "NetworkUnavailable");
            writer.WriteString("status", "False");
            writer.WriteString("lastHeartbeatTime", now);
            writer.WriteString("lastTransitionTime", now);
            writer.WriteString("reason", "FlannelIsUp");
            writer.WriteString("message", "Flannel is running on this node");
            writer.WriteEndObject();
            writer.WriteEndArray();
            writer.WriteEndObject();
            writer.WriteEndObject();
        }

        await _api.PatchNodeStatusAsync(name, buffer.WrittenSpan.ToArray(), StrategicMergePatch, cancellationToken).ConfigureAwait(false);
        KubeLog.NetworkAvailable(_logger, name);
    }

    public void Dispose()
    {
        _api.Dispose();
        _nodeNameLock.Dispose();
    }

    /// <summary>The annotation values this node should carry, as upstream's AcquireLease computes them.</summary>
    internal SortedDictionary<string, string> DesiredAnnotations(NodeInfo node, LeaseAttrs attrs)
    {
        KubeAnnotations names = Annotations;
        var desired = new SortedDictionary<string, string>(StringComparer.Ordinal);
        string backendType = attrs.BackendType ?? "";
        string data = string.IsNullOrEmpty(attrs.BackendData) ? "null" : attrs.BackendData;
        string data6 = string.IsNullOrEmpty(attrs.BackendV6Data) ? "null" : attrs.BackendV6Data;
        desired[names.BackendType] = backendType;

        // Only vxlan, wireguard and host-gw advertise IPv6; vxlan without v4 data (IPv6-only) writes no v4 keys.
        if ((backendType == "vxlan" && data != "null") || (backendType == "wireguard" && data != "null") || backendType != "vxlan")
        {
            desired[names.BackendData] = data;
            desired[names.BackendPublicIP] = Overwrite(node, names.BackendPublicIPOverwrite) ?? attrs.PublicIP.ToString();
        }

        if (attrs.PublicIPv6 is not null
            && ((backendType == "vxlan" && data6 != "null") || (backendType == "wireguard" && data6 != "null") || backendType == "host-gw"))
        {
            desired[names.BackendV6Data] = data6;
            desired[names.BackendPublicIPv6] = Overwrite(node, names.BackendPublicIPv6Overwrite) ?? attrs.PublicIPv6.ToString();
        }

        desired[names.SubnetKubeManaged] = "true";
        return desired;
    }

    private static string? NullIfJsonNull(string? value) => value is null or "" or "null" ? null : value;

    private static IPAddress? ParseAnnotatedAddress(NodeInfo node, string annotation, bool v6)
    {
        string? text = node.Annotation(annotation);
        if (string.IsNullOrEmpty(text))
        {
            return null;
        }

        return !v6 && Ip4.TryParse(text, out uint a) ? Ip4.ToIPAddress(a)
            : v6 && Ip6.TryParse(text, out UInt128 a6) ? Ip6.ToIPAddress(a6)
            : throw new FormatException($"node \"{node.Name}\" annotation {annotation} is not an {(v6 ? "IPv6" : "IPv4")} address: \"{text}\"");
    }

    private static string? Overwrite(NodeInfo node, string annotation) =>
        node.Annotation(annotation) is { Length: > 0 } value ? value : null;

    private static byte[] AnnotationPatch(IEnumerable<KeyValuePair<string, string>> changes)
    {
        var buffer = new ArrayBufferWriter<byte>(512);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteStartObject("metadata");
            writer.WriteStartObject("annotations");
            foreach (KeyValuePair<string, string> change in changes)
            {
                writer.WriteString(change.Key, change.Value);
            }

            writer.WriteEndObject();
            writer.WriteEndObject();
            writer.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    private async Task<Lease> AcquireOnNodeAsync(NodeInfo node, LeaseRequest request, CancellationToken cancellationToken)
    {
        NetConfig config = request.Config;
        LeaseAttrs attrs = request.Attrs;
        (Ip4Net? cidr4, Ip6Net? cidr6) = NodeLeaseConverter.PodCidrs(node);

        // node-public-ip(v6): the admin's address for this node, used when no --public-ip(v6) flag was given.
        (IPAddress? nodeIP, IPAddress? nodeIPv6) = (ParseAnnotatedAddress(node, Annotations.NodePublicIP, v6: false), ParseAnnotatedAddress(node, Annotations.NodePublicIPv6, v6: true));
        if (nodeIP is not null && !_settings.PublicIPFromFlag && !nodeIP.Equals(attrs.PublicIP))
        {
            KubeLog.NodePublicIP(_logger, nodeIP.ToString(), Annotations.NodePublicIP);
            attrs = attrs with { PublicIP = nodeIP };
        }

        if (nodeIPv6 is not null && !_settings.PublicIPv6FromFlag && !nodeIPv6.Equals(attrs.PublicIPv6))
        {
            KubeLog.NodePublicIP(_logger, nodeIPv6.ToString(), Annotations.NodePublicIPv6);
            attrs = attrs with { PublicIPv6 = nodeIPv6 };
        }

        Ip4Net? subnet = null;
        Ip6Net? subnet6 = null;
        bool dualStackBackend = attrs.BackendType is "vxlan" or "host-gw" or "wireguard";
        if (config.EnableIPv4)
        {
            if (cidr4 is not { } v4)
            {
                throw new InvalidOperationException($"node \"{node.Name}\" has no IPv4 pod CIDR (podCIDRs [{string.Join(' ', node.PodCidrs)}]) but net-conf enables IPv4");
            }

            if (config.Network is not { } network || !network.Contains(v4))
            {
                throw new InvalidOperationException($"subnet \"{config.Network}\" specified in the flannel net config doesn't contain \"{v4}\" PodCIDR of the \"{node.Name}\" node");
            }

            subnet = v4;
        }

        if (config.EnableIPv6 && dualStackBackend)
        {
            if (cidr6 is not { } v6)
            {
                throw new InvalidOperationException($"node \"{node.Name}\" has no IPv6 pod CIDR (podCIDRs [{string.Join(' ', node.PodCidrs)}]) but net-conf enables IPv6");
            }

            if (config.IPv6Network is not { } network6 || !network6.Contains(v6))
            {
                throw new InvalidOperationException($"subnet \"{config.IPv6Network}\" specified in the flannel net config doesn't contain \"{v6}\" IPv6 PodCIDR of the \"{node.Name}\" node");
            }

            subnet6 = v6;
        }

        SortedDictionary<string, string> desired = DesiredAnnotations(node, attrs);
        var changes = desired.Where(pair => node.Annotation(pair.Key) != pair.Value).ToList();
        foreach (var change in changes.Where(c => c.Key == Annotations.BackendPublicIP || c.Key == Annotations.BackendPublicIPv6))
        {
            string overwriteName = change.Key == Annotations.BackendPublicIP ? Annotations.BackendPublicIPOverwrite : Annotations.BackendPublicIPv6Overwrite;
            if (Overwrite(node, overwriteName) == change.Value)
            {
                KubeLog.PublicIPOverwritten(_logger, change.Value, overwriteName);
            }
        }

        if (changes.Count > 0)
        {
            byte[] patch = AnnotationPatch(changes);
            await PatchWithRetryAsync(node.Name, patch, cancellationToken).ConfigureAwait(false);
            KubeLog.AnnotationsPatched(_logger, node.Name, Encoding.UTF8.GetString(patch));
        }

        // The lease carries what peers see (the overwrite address, if any), so that this node recognises its own lease.
        IPAddress advertised = desired.TryGetValue(Annotations.BackendPublicIP, out string? ip) && Ip4.TryParse(ip, out uint a) ? Ip4.ToIPAddress(a) : attrs.PublicIP;
        IPAddress? advertised6 = desired.TryGetValue(Annotations.BackendPublicIPv6, out string? ip6) && Ip6.TryParse(ip6, out UInt128 a6) ? Ip6.ToIPAddress(a6) : attrs.PublicIPv6;
        var leaseAttrs = attrs with
        {
            PublicIP = advertised,
            PublicIPv6 = subnet6 is null ? null : advertised6,
            BackendData = NullIfJsonNull(attrs.BackendData),
            BackendV6Data = subnet6 is null ? null : NullIfJsonNull(attrs.BackendV6Data),
        };
        return new Lease(subnet, subnet6, leaseAttrs, _time.GetUtcNow() + _settings.LeaseTtl);
    }

    private async Task PatchWithRetryAsync(string name, byte[] patch, CancellationToken cancellationToken)
    {
        DateTimeOffset deadline = _time.GetUtcNow() + _settings.RetryTimeout;
        while (true)
        {
            try
            {
                await _api.PatchNodeStatusAsync(name, patch, StrategicMergePatch, cancellationToken).ConfigureAwait(false);
                return;
            }
            catch (Exception ex) when ((ex is KubeApiException or HttpRequestException or TimeoutException) && _time.GetUtcNow() < deadline)
            {
                KubeLog.AcquireRetry(_logger, name, _settings.RetryInterval, ex.Message);
                await Task.Delay(_settings.RetryInterval, _time, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    private async Task SetNetworkAvailableWithRetryAsync(CancellationToken cancellationToken)
    {
        TimeSpan delay = _settings.RetryInterval;
        while (true)
        {
            try
            {
                await SetNetworkAvailableAsync(cancellationToken).ConfigureAwait(false);
                return;
            }
            catch (Exception ex) when (ex is KubeApiException or HttpRequestException or TimeoutException)
            {
                KubeLog.NetworkAvailableRetry(_logger, _nodeName ?? "?", delay, ex.Message);
                await Task.Delay(delay, _time, cancellationToken).ConfigureAwait(false);
                delay = delay * 2 < TimeSpan.FromMinutes(1) ? delay * 2 : TimeSpan.FromMinutes(1);
            }
        }
    }
}
