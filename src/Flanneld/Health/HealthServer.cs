using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using OpenTelemetry;
using OpenTelemetry.Metrics;

namespace Flanneld.Health;

/// <summary>
/// The --healthz-ip/--healthz-port endpoint: <c>GET /healthz</c> and <c>GET /readyz</c> as upstream answers them,
/// and, beyond upstream, Prometheus metrics at <c>/metrics</c> from the OpenTelemetry Prometheus exporter. The
/// exporter owns an HttpListener of its own; both listeners share the address and port, each on its own path prefix
/// (the managed HttpListener routes one endpoint's requests by longest prefix). Started only when the port is set.
/// </summary>
public sealed class HealthServer : IAsyncDisposable
{
    public const string RunningText = "flanneld is running";
    public const string ReadyText = "flanneld is ready";
    public const string NotReadyText = "flanneld is not ready yet";

    private static readonly byte[] Running = "flanneld is running"u8.ToArray();
    private static readonly byte[] Ready = "flanneld is ready"u8.ToArray();
    private static readonly byte[] NotReady = "flanneld is not ready yet"u8.ToArray();

    private readonly HttpListener _listener;
    private readonly MeterProvider? _meterProvider;
    private readonly Func<bool> _isReady;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _serving;

    private HealthServer(HttpListener listener, MeterProvider? meterProvider, Func<bool> isReady, ILogger logger)
    {
        _listener = listener;
        _meterProvider = meterProvider;
        _isReady = isReady;
        _logger = logger;
        _serving = Task.Run(ServeAsync);
    }

    /// <summary>The base URL, e.g. <c>http://192.0.2.1:8081/</c> (<c>+</c> stands for every address).</summary>
    public string BaseUrl { get; private init; } = string.Empty;

    /// <summary>
    /// Starts listening on <paramref name="address"/>:<paramref name="port"/> (0.0.0.0 / :: mean every address).
    /// <paramref name="isReady"/> decides /readyz; with <paramref name="metrics"/>, /metrics serves its Meter.
    /// Throws <see cref="HttpListenerException"/> naming the address when it cannot bind.
    /// </summary>
    public static HealthServer Start(IPAddress address, int port, Func<bool> isReady, FlannelMetrics? metrics, ILogger logger)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(port, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(port, 65535);
        string host = address.Equals(IPAddress.Any) || address.Equals(IPAddress.IPv6Any)
            ? "+"
            : address.AddressFamily == AddressFamily.InterNetworkV6 ? $"[{address}]" : address.ToString();
        string baseUrl = string.Create(CultureInfo.InvariantCulture, $"http://{host}:{port}/");

        var listener = new HttpListener();
        listener.Prefixes.Add(baseUrl + "healthz/");
        listener.Prefixes.Add(baseUrl + "readyz/");
        try
        {
            listener.Start();
        }
        catch (HttpListenerException ex)
        {
            ((IDisposable)listener).Dispose();
            throw new HttpListenerException(ex.ErrorCode, $"healthz: cannot listen on {baseUrl} (--healthz-ip {address}, --healthz-port {port}): {ex.Message}");
        }

        MeterProvider? meterProvider = null;
        if (metrics is not null)
        {
            meterProvider = Sdk.CreateMeterProviderBuilder()
                .AddMeter(FlannelMetrics.MeterName)
                .AddPrometheusHttpListener(options =>
                {
                    options.ScrapeEndpointPath = "/metrics";
                    options.TargetInfoEnabled = false;
                    options.ScopeInfoEnabled = false;
                    options.ConfigureHttpListener = (_, exporterListener) =>
                    {
                        exporterListener.Prefixes.Clear();
                        exporterListener.Prefixes.Add(baseUrl + "metrics/");
                    };
                })
                .Build();
        }

        HealthLog.Listening(logger, baseUrl, metrics is not null);
        return new HealthServer(listener, meterProvider, isReady, logger) { BaseUrl = baseUrl };
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);

        // Dispose alone, not Stop then Dispose: on Linux the second removal of the listener's prefix binds the port
        // again just to look it up, and fails with "Address already in use" when another socket took it meanwhile.
        ((IDisposable)_listener).Dispose();
        await _serving.ConfigureAwait(false);
        _meterProvider?.Dispose();
        _stop.Dispose();
    }

    private async Task ServeAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync().ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                if (_stop.IsCancellationRequested)
                {
                    return;
                }

                HealthLog.ServeFailed(_logger, ex);
                continue;
            }

            try
            {
                await AnswerAsync(context).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is HttpListenerException or IOException or ObjectDisposedException)
            {
                HealthLog.ServeFailed(_logger, ex);
            }
        }
    }

    private async Task AnswerAsync(HttpListenerContext context)
    {
        using HttpListenerResponse response = context.Response;
        string path = context.Request.Url?.AbsolutePath.TrimEnd('/') ?? string.Empty;
        (int status, byte[] body) = path switch
        {
            "/healthz" => (200, Running),
            "/readyz" => _isReady() ? (200, Ready) : (503, NotReady),
            _ => (404, "404 page not found\n"u8.ToArray()),
        };
        response.StatusCode = status;
        response.ContentType = "text/plain; charset=utf-8";
        response.ContentLength64 = body.Length;
        await response.OutputStream.WriteAsync(body, _stop.Token).ConfigureAwait(false);
    }
}
