using System.Collections.Concurrent;
using System.Threading.Channels;
using Flannel.Core.Config;
using Flannel.Core.Leases;
using Flannel.Core.Net;
using Flanneld.Leases.Kubernetes;
using Flannel.Lab.Kubernetes;
using Microsoft.Extensions.Logging;

namespace Flanneld.Tests.Leases.Kubernetes;

/// <summary>Builds stores against the fake API server, with the waits shortened.</summary>
internal static class KubeTestSupport
{
    public const string Prefix = "flannel.alpha.coreos.com/";

    public static readonly NetConfig Vxlan = new()
    {
        Network = Ip4Net.Parse("198.18.0.0/16"),
        SubnetLen = 24,
        BackendType = "vxlan",
        Backend = "{\"Type\":\"vxlan\"}",
    };

    public static KubeLeaseStoreSettings Settings(string nodeName = "node1") => new()
    {
        NodeName = nodeName,
        RetryInterval = TimeSpan.FromMilliseconds(100),
        RetryTimeout = TimeSpan.FromMilliseconds(600),
        InitialBackoff = TimeSpan.FromMilliseconds(20),
        MaxBackoff = TimeSpan.FromMilliseconds(200),
        SetNodeNetworkUnavailable = false,
    };

    public static KubeLeaseStore Store(FakeKubeApiServer server, KubeLeaseStoreSettings settings, ILogger? logger = null)
    {
        var http = new HttpClient { Timeout = Timeout.InfiniteTimeSpan };
        var api = new KubeApiClient(http, server.BaseUri, null, http);
        return new KubeLeaseStore(api, settings, logger ?? new CapturingLogger(), TimeProvider.System);
    }

    public static Dictionary<string, string> FlannelAnnotations(string publicIP, string mac = "4a:fe:33:28:ca:bf") => new()
    {
        [Prefix + "kube-subnet-manager"] = "true",
        [Prefix + "backend-type"] = "vxlan",
        [Prefix + "backend-data"] = $"{{\"VNI\":1,\"VtepMAC\":\"{mac}\"}}",
        [Prefix + "public-ip"] = publicIP,
    };
}

/// <summary>Reads a store's watch in the background so that tests can wait for the next delivery with a timeout.</summary>
internal sealed class WatchProbe : IAsyncDisposable
{
    private readonly Channel<LeaseWatchBatch> _batches = Channel.CreateUnbounded<LeaseWatchBatch>();
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _pump;

    public WatchProbe(ILeaseStore store)
    {
        _pump = Task.Run(async () =>
        {
            try
            {
                await foreach (LeaseWatchBatch batch in store.WatchLeasesAsync(_stop.Token))
                {
                    _batches.Writer.TryWrite(batch);
                }
            }
            catch (OperationCanceledException)
            {
            }
            finally
            {
                _batches.Writer.TryComplete();
            }
        });
    }

    public async Task<LeaseWatchBatch> NextAsync(double seconds = 10)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(seconds));
        return await _batches.Reader.ReadAsync(timeout.Token);
    }

    /// <summary>Collects events until <paramref name="done"/> holds for what was collected.</summary>
    public async Task<List<LeaseEvent>> EventsUntilAsync(Func<List<LeaseEvent>, bool> done, double seconds = 10)
    {
        var events = new List<LeaseEvent>();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(seconds));
        while (!done(events))
        {
            LeaseWatchBatch batch = await _batches.Reader.ReadAsync(timeout.Token);
            Assert.False(batch.IsSnapshot, "unexpected snapshot");
            events.AddRange(batch.Events);
        }

        return events;
    }

    public async Task AssertQuietAsync(double seconds)
    {
        await Task.Delay(TimeSpan.FromSeconds(seconds));
        Assert.False(_batches.Reader.TryRead(out LeaseWatchBatch? batch), $"unexpected delivery: {batch}");
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _pump;
        _stop.Dispose();
    }
}

/// <summary>Keeps log lines so that tests can check what was warned about.</summary>
internal sealed class CapturingLogger : ILogger
{
    private readonly ConcurrentQueue<(LogLevel Level, string Message)> _lines = new();

    public IReadOnlyList<(LogLevel Level, string Message)> Lines => _lines.ToList();

    public IEnumerable<string> Warnings => _lines.Where(l => l.Level == LogLevel.Warning).Select(l => l.Message);

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        ArgumentNullException.ThrowIfNull(formatter);
        _lines.Enqueue((logLevel, formatter(state, exception)));
    }
}
