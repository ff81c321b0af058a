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
        await foreach (NodeWatchEvent e in _api.WatchNodesAsync(resourceVersion, timeout, _converter.Names.Prefix, cancellationToken).ConfigureAwait(false))
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
        if (!fields.Managed)
        {
            return new NodeState(fields, null);
        }

        try
        {
            return new NodeState(fields, _converter.ToLease(node, _enableIPv4, _enableIPv6, _time.GetUtcNow() + _settings.LeaseTtl));
        }
        catch (FormatException ex)
        {
            KubeLog.NodeSkipped(_logger, node.Name, ex.Message);
            return new NodeState(fields, null);
        }
    }

    private sealed record NodeState(LeaseFields Fields, Lease? Lease);
}
