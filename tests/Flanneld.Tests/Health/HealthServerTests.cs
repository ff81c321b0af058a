using System.Net;
using System.Net.Sockets;
using Flanneld.Health;
using Microsoft.Extensions.Logging.Abstractions;

namespace Flanneld.Tests.Health;

public sealed class HealthServerTests : IDisposable
{
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(10) };

    public void Dispose() => _http.Dispose();

    /// <summary>
    /// The server on a port that was free a moment ago. HttpListener cannot bind port 0, so the port is probed first;
    /// another socket of the test run (an outgoing connection's ephemeral port) can take it in between, so a few tries.
    /// </summary>
    internal static HealthServer StartOnFreePort(IPAddress address, Func<bool> ready, FlannelMetrics? metrics, out int port)
    {
        for (int attempt = 1; ; attempt++)
        {
            using (var probe = new TcpListener(address, 0))
            {
                probe.Start();
                port = ((IPEndPoint)probe.LocalEndpoint).Port;
            }

            try
            {
                return HealthServer.Start(address, port, ready, metrics, NullLogger.Instance);
            }
            catch (HttpListenerException) when (attempt < 5)
            {
            }
        }
    }

    [Fact]
    public async Task Healthz_Running_200WithUpstreamText()
    {
        await using HealthServer server = StartOnFreePort(IPAddress.Loopback, () => false, null, out int port);

        HttpResponseMessage response = await _http.GetAsync($"http://127.0.0.1:{port}/healthz");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("flanneld is running", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Readyz_BeforeAndAfterReady_503Then200()
    {
        bool ready = false;
        await using HealthServer server = StartOnFreePort(IPAddress.Loopback, () => ready, null, out int port);

        HttpResponseMessage before = await _http.GetAsync($"http://127.0.0.1:{port}/readyz");
        ready = true;
        HttpResponseMessage after = await _http.GetAsync($"http://127.0.0.1:{port}/readyz");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, before.StatusCode);
        Assert.Equal("flanneld is not ready yet", await before.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.OK, after.StatusCode);
        Assert.Equal("flanneld is ready", await after.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Metrics_SamePort_PrometheusTextOfFlannelInstruments()
    {
        using var metrics = new FlannelMetrics();
        await using HealthServer server = StartOnFreePort(IPAddress.Loopback, () => true, metrics, out int port);
        metrics.SetLeaseExpiry(DateTimeOffset.FromUnixTimeSeconds(1_800_000_000));
        metrics.LeaseRenewal(succeeded: true);
        metrics.LeaseRenewal(succeeded: false);
        metrics.LeaseRenewal(succeeded: true);
        metrics.SetPeersKnown(7);
        metrics.SetKernelEntries(21);
        metrics.RecordReconcile(TimeSpan.FromMilliseconds(3));
        metrics.ProgrammingError("iptables");
        metrics.StoreReconnected();
        metrics.RulesRepaired("nftables");

        string text = await _http.GetStringAsync($"http://127.0.0.1:{port}/metrics");
        HttpResponseMessage health = await _http.GetAsync($"http://127.0.0.1:{port}/healthz");

        Assert.Contains("flannel_lease_expiry_seconds{} 1800000000", text, StringComparison.Ordinal);
        Assert.Contains("flannel_lease_renewals_total{result=\"success\"} 2", text, StringComparison.Ordinal);
        Assert.Contains("flannel_lease_renewals_total{result=\"failure\"} 1", text, StringComparison.Ordinal);
        Assert.Contains("flannel_peers{} 7", text, StringComparison.Ordinal);
        Assert.Contains("flannel_kernel_entries{} 21", text, StringComparison.Ordinal);
        Assert.Contains("flannel_reconcile_duration_seconds_bucket{le=\"0.005\"} 1", text, StringComparison.Ordinal);
        Assert.Contains("flannel_reconcile_duration_seconds_count{} 1", text, StringComparison.Ordinal);
        Assert.Contains("flannel_programming_errors_total{kind=\"iptables\"} 1", text, StringComparison.Ordinal);
        Assert.Contains("flannel_store_reconnects_total{} 1", text, StringComparison.Ordinal);
        Assert.Contains("flannel_rules_repairs_total{mode=\"nftables\"} 1", text, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
    }

    [Fact]
    public async Task UnknownPath_404()
    {
        await using HealthServer server = StartOnFreePort(IPAddress.Loopback, () => true, null, out int port);

        HttpResponseMessage response = await _http.GetAsync($"http://127.0.0.1:{port}/nope");

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    [Fact]
    public async Task Start_SpecificAddress_NotReachableOnAnotherAddress()
    {
        var bound = IPAddress.Parse("127.0.0.2");
        await using HealthServer server = StartOnFreePort(bound, () => true, null, out int port);

        HttpResponseMessage onBound = await _http.GetAsync($"http://127.0.0.2:{port}/healthz");
        using var other = new TcpClient();
        SocketException refused = await Assert.ThrowsAsync<SocketException>(() => other.ConnectAsync(IPAddress.Loopback, port));

        Assert.Equal(HttpStatusCode.OK, onBound.StatusCode);
        Assert.Equal(SocketError.ConnectionRefused, refused.SocketErrorCode);
    }

    [Fact]
    public async Task Start_AnyAddress_ReachableOnLoopbackWithMetrics()
    {
        using var metrics = new FlannelMetrics();
        await using HealthServer server = StartOnFreePort(IPAddress.Any, () => true, metrics, out int port);
        metrics.SetPeersKnown(3);

        Assert.Equal("flanneld is ready", await _http.GetStringAsync($"http://127.0.0.1:{port}/readyz"));
        Assert.Contains("flannel_peers{} 3", await _http.GetStringAsync($"http://127.0.0.1:{port}/metrics"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Start_PortTaken_ErrorNamesTheAddress()
    {
        using var taken = new TcpListener(IPAddress.Loopback, 0);
        taken.Start();
        int port = ((IPEndPoint)taken.LocalEndpoint).Port;

        HttpListenerException error = Assert.Throws<HttpListenerException>(() => HealthServer.Start(IPAddress.Loopback, port, () => true, null, NullLogger.Instance));

        Assert.Contains($"127.0.0.1:{port}", error.Message, StringComparison.Ordinal);
        await Task.CompletedTask;
    }
}
