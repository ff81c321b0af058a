using System.Threading.Channels;
using Flannel.Core.Leases;
using Microsoft.Extensions.Logging;

namespace Flanneld.Leases.Kubernetes;

/// <summary>
/// Follows every Node the way the API documents it: list (paged), then watch from the list's resourceVersion with
/// bookmarks; resume from the last resourceVersion seen when the server closes the watch; list again when the server
/// says the version is too old (410 Expired, as an ERROR event inside HTTP 200 or as an HTTP 410); back off on
/// failures. Each list is delivered as a snapshot of every lease; between lists, only changes to the fields a lease is
/// made of become events.
/// The watch asks for metadata only (annotations, not status): a node's podCIDR is set once and never changes, so it
/// comes from the list, or from one GET when a node first carries flannel's annotations.
/// </summary>
internal sealed class NodeLeaseWatch
{
    private readonly KubeApiClient _api;
    private readonly NodeLeaseConverter _converter;
    private readonly KubeLeaseStoreSettings _settings;
    private readonly bool _enableIPv4;
    private readonly bool _enableIPv6;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly ChannelWriter<LeaseWatchBatch> _output;
    private Dictionary<string, NodeState> _nodes = new(StringComparer.Ordinal);

    public NodeLeaseWatch(
        KubeApiClient api,
        NodeLeaseConverter converter,
        KubeLeaseStoreSettings settings,
        bool enableIPv4,
        bool enableIPv6,
        ILogger logger,
        TimeProvider time,
        ChannelWriter<LeaseWatchBatch> output)
    {
        _api = api;
        _converter = converter;
        _settings = settings;
        _enableIPv4 = enableIPv4;
        _enableIPv6 = enableIPv6;
        _logger = logger;
        _time = time;
        _output = output;
    }

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        string? resourceVersion = null;
        int failures = 0;
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            try
            {
                if (resourceVersion is null)
                {
                    resourceVersion = await RelistAsync(cancellationToken).ConfigureAwait(false);
                    failures = 0;
                }

                (string last, bool expired, bool sawEvents) = await WatchOnceAsync(resourceVersion, cancellationToken).ConfigureAwait(false);
                if (expired)
                {
                    KubeLog.WatchExpired(_logger, resourceVersion);
                    resourceVersion = null;

                    // A fresh list that expires again at once would spin: back off from the second time on.
                    if (++failures > 1)
                    {
                        await Task.Delay(Backoff(failures - 1), _time, cancellationToken).ConfigureAwait(false);
                    }

                    continue;
                }

                KubeLog.WatchClosed(_logger, last);
                resourceVersion = last;
                failures = sawEvents ? 0 : failures;
            }
            catch (KubeApiException ex) when (ex.IsExpired)
            {
                KubeLog.WatchExpired(_logger, resourceVersion ?? "(list)");
                resourceVersion = null;
                if (++failures > 1)
                {
                    await Task.Delay(Backoff(failures - 1), _time, cancellationToken).ConfigureAwait(false);
                }
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                TimeSpan delay = Backoff(failures++);
                KubeLog.WatchFailed(_logger, delay, ex.Message);
                await Task.Delay(delay, _time, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    private TimeSpan Backoff(int failures)
    {
        double factor = Math.Pow(2, Math.Min(failures, 16));
        TimeSpan delay = _settings.InitialBackoff * factor;
        delay = delay < _settings.MaxBackoff ? delay : _settings.MaxBackoff;

        // Jitter keeps thousands of daemons from reconnecting to a restarted API server in step.
        return delay * (0.75 + (Random.Shared.NextDouble() * 0.5));
    }

    private async Task<string> RelistAsync(CancellationToken cancellationToken)
    {
        var nodes = new Dictionary<string, NodeState>(StringComparer.Ordinal);
        string? continueToken = null;
        string resourceVersion;
        do
        {
            NodeListPage page = await _api.ListNodesAsync(_settings.ListPageSize, continueToken, _converter.Names.Prefix, cancellationToken).ConfigureAwait(false);
            foreach (NodeInfo node in page.Items)
            {
                nodes[node.Name] = Convert(node);
            }

            resourceVersion = page.ResourceVersion;
            continueToken = page.Continue;
        }
        while (continueToken is not null);

        _nodes = nodes;
        var leases = new List<Lease>(nodes.Count);
        foreach (NodeState state in nodes.Values)
        {
            if (state.Lease is { } lease)
            {
                leases.Add(lease);
            }
        }

        KubeLog.Listed(_logger, nodes.Count, leases.Count, resourceVersion);
        await _output.WriteAsync(LeaseWatchBatch.FromSnapshot(leases), cancellationToken).ConfigureAwait(false);
        return resourceVersion;
    }

    private async Task<(string ResourceVersion, bool Expired, bool SawEvents)> WatchOnceAsync(string resourceVersion, CancellationToken cancellationToken)
    {
        int timeout = Random.Shared.Next(_settings.MinWatchTimeoutSeconds, _settings.MaxWatchTimeoutSeconds + 1);
        bool sawEvents = false;
        await foreach (NodeWatchEvent e in _api.WatchNodesAsync(resourceVersion, timeout, _converter.Names.Prefix, _settings.MetadataOnlyWatch, cancellationToken).ConfigureAwait(false))
        {
            switch (e.Type)
            {
                case WatchEventType.Added or WatchEventType.Modified:
                    await ApplyAsync(e.Node!, cancellationToken).ConfigureAwait(false);
                    break;
                case WatchEventType.Deleted:
                    await RemoveAsync(e.Node!, cancellationToken).ConfigureAwait(false);
                    break;
                case WatchEventType.Error when e.Status!.Code == 410:
                    return (resourceVersion, true, sawEvents);
                case WatchEventType.Error:
                    throw new KubeApiException($"node watch: error event {e.Status!.Code} {e.Status.Reason}: {e.Status.Message}");
                default:
                    break;
            }

            sawEvents = true;
            if (!string.IsNullOrEmpty(e.ResourceVersion))
            {
                resourceVersion = e.ResourceVersion;
            }
        }

        return (resourceVersion, false, sawEvents);
    }

    private async Task ApplyAsync(NodeInfo node, CancellationToken cancellationToken)
    {
        _nodes.TryGetValue(node.Name, out NodeState? held);
        if (!node.HasSpec)
        {
            node = await WithPodCidrAsync(node, held, cancellationToken).ConfigureAwait(false);
        }

        LeaseFields fields = _converter.Fields(node);
        if (held is not null && held.Fields == fields)
        {
            // Status heartbeats, labels, other annotations: nothing a lease is made of changed.
            return;
        }

        NodeState state = Convert(node, fields);
        _nodes[node.Name] = state;
        if (held?.Lease is { } old && (state.Lease is null || old.Key != state.Lease.Key))
        {
            await EmitAsync(new LeaseEvent(LeaseEventType.Removed, old), cancellationToken).ConfigureAwait(false);
        }

        if (state.Lease is { } lease && (held?.Lease is not { } previous || !previous.SameDataPath(lease)))
        {
            await EmitAsync(new LeaseEvent(LeaseEventType.Added, lease), cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Completes a metadata-only node with its podCIDR(s): known for this uid, else fetched once if it is ours.</summary>
    private async Task<NodeInfo> WithPodCidrAsync(NodeInfo node, NodeState? held, CancellationToken cancellationToken)
    {
        // spec.podCIDR may only change from "" to a value: once seen for this node object (uid), it is final.
        if (held is not null && held.Uid == node.Uid && held.PodCidr.Length > 0)
        {
            return node with { PodCidr = held.PodCidr, PodCidrs = held.PodCidrs, HasSpec = true };
        }

        if (!_converter.IsManaged(node))
        {
            return node with { HasSpec = true };
        }

        try
        {
            NodeInfo full = await _api.GetNodeAsync(node.Name, _converter.Names.Prefix, cancellationToken).ConfigureAwait(false);
            return full.Uid == node.Uid ? node with { PodCidr = full.PodCidr, PodCidrs = full.PodCidrs, HasSpec = true } : node with { HasSpec = true };
        }
        catch (KubeApiException ex) when (ex.StatusCode == System.Net.HttpStatusCode.NotFound)
        {
            // Deleted since this event: its DELETED event follows.
            return node with { HasSpec = true };
        }
    }

    private async Task RemoveAsync(NodeInfo node, CancellationToken cancellationToken)
    {
        if (_nodes.Remove(node.Name, out NodeState? held) && held.Lease is { } lease)
        {
            await EmitAsync(new LeaseEvent(LeaseEventType.Removed, lease), cancellationToken).ConfigureAwait(false);
        }
    }

    private ValueTask EmitAsync(LeaseEvent e, CancellationToken cancellationToken) =>
        _output.WriteAsync(LeaseWatchBatch.FromEvents([e]), cancellationToken);

    private NodeState Convert(NodeInfo node) => Convert(node, _converter.Fields(node));

    private NodeState Convert(NodeInfo node, LeaseFields fields)
    {
        Lease? lease = null;
        if (fields.Managed)
        {
            try
            {
                lease = _converter.ToLease(node, _enableIPv4, _enableIPv6, _time.GetUtcNow() + _settings.LeaseTtl);
            }
            catch (FormatException ex)
            {
                KubeLog.NodeSkipped(_logger, node.Name, ex.Message);
            }
        }

        return new NodeState(fields, lease, node.Uid, node.PodCidr, node.PodCidrs);
    }

    private sealed record NodeState(LeaseFields Fields, Lease? Lease, string Uid, string PodCidr, IReadOnlyList<string> PodCidrs);
}
