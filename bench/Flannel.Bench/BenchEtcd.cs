using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Flannel.Lab;
using Flannel.Linux.Namespaces;

namespace Flannel.Bench;

/// <summary>
/// A second etcd in the lab's underlay namespace (port 2479) allowing 20,000 operations per transaction, so 1,000
/// or 10,000 leases go in with one request; written to through its JSON gateway from a socket made inside the
/// underlay namespace (no etcdctl process per write).
/// </summary>
internal sealed class BenchEtcd : IAsyncDisposable
{
    public const string Endpoint = "http://" + LabPaths.EtcdAddress + ":2479";

    private readonly LabProcess _process;
    private readonly HttpClient _http;
    private readonly NetworkNamespace _namespace;

    private BenchEtcd(LabProcess process, NetworkNamespace ns)
    {
        _process = process;
        _namespace = ns;
        var handler = new SocketsHttpHandler
        {
            ConnectCallback = async (context, cancellationToken) =>
            {
                Socket socket = ns.Run(() => new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp));
                await socket.ConnectAsync(new IPEndPoint(IPAddress.Parse(LabPaths.EtcdAddress), 2479), cancellationToken);
                return new NetworkStream(socket, ownsSocket: true);
            },
        };
        _http = new HttpClient(handler) { BaseAddress = new Uri(Endpoint), Timeout = TimeSpan.FromMinutes(2) };
    }

    public static async Task<BenchEtcd> StartAsync(LabCluster cluster)
    {
        string dataDir = Path.Combine(cluster.WorkDir, "bench-etcd");
        LabProcess process = LabProcess.Start(cluster.UnderlayNamespace, "etcd",
        [
            "--name", "bench", "--data-dir", dataDir,
            "--listen-client-urls", Endpoint, "--advertise-client-urls", Endpoint,
            "--listen-peer-urls", "http://127.0.0.1:2480", "--initial-advertise-peer-urls", "http://127.0.0.1:2480",
            "--initial-cluster", "bench=http://127.0.0.1:2480", "--max-txn-ops", "20000", "--max-request-bytes", "33554432",
        ], Path.Combine(cluster.WorkDir, "bench-etcd.log"));
        var etcd = new BenchEtcd(process, NetworkNamespace.Open(cluster.UnderlayNamespace));
        try
        {
            for (int attempt = 0; ; attempt++)
            {
                try
                {
                    await etcd.PutAsync("/bench/ping", "1");
                    return etcd;
                }
                catch (HttpRequestException) when (attempt < 100 && !process.HasExited)
                {
                    await Task.Delay(100);
                }
            }
        }
        catch
        {
            await etcd.DisposeAsync();
            throw;
        }
    }

    public Task PutAsync(string key, string value) => TxnAsync([(key, value)], []);

    /// <summary>One transaction putting <paramref name="puts"/> and deleting <paramref name="deletes"/>.</summary>
    public async Task TxnAsync(IReadOnlyList<(string Key, string Value)> puts, IReadOnlyList<string> deletes)
    {
        using var body = new MemoryStream();
        using (var w = new Utf8JsonWriter(body))
        {
            w.WriteStartObject();
            w.WriteStartArray("success");
            foreach ((string key, string value) in puts)
            {
                w.WriteStartObject();
                w.WriteStartObject("requestPut");
                w.WriteBase64String("key", Encoding.UTF8.GetBytes(key));
                w.WriteBase64String("value", Encoding.UTF8.GetBytes(value));
                w.WriteEndObject();
                w.WriteEndObject();
            }

            foreach (string key in deletes)
            {
                w.WriteStartObject();
                w.WriteStartObject("requestDeleteRange");
                w.WriteBase64String("key", Encoding.UTF8.GetBytes(key));
                w.WriteEndObject();
                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteEndObject();
        }

        using var content = new ByteArrayContent(body.ToArray());
        using HttpResponseMessage response = await _http.PostAsync(new Uri("/v3/kv/txn", UriKind.Relative), content);
        string text = await response.Content.ReadAsStringAsync();
        if (!response.IsSuccessStatusCode || text.Contains("\"error\"", StringComparison.Ordinal))
        {
            throw new InvalidOperationException($"etcd txn failed ({response.StatusCode}): {text}");
        }
    }

    /// <summary>Deletes every key starting with <paramref name="prefix"/>.</summary>
    public async Task DeletePrefixAsync(string prefix)
    {
        byte[] key = Encoding.UTF8.GetBytes(prefix);
        byte[] end = (byte[])key.Clone();
        end[^1]++;
        string json = $$"""{"key":"{{Convert.ToBase64String(key)}}","range_end":"{{Convert.ToBase64String(end)}}"}""";
        using var content = new StringContent(json);
        using HttpResponseMessage response = await _http.PostAsync(new Uri("/v3/kv/deleterange", UriKind.Relative), content);
        response.EnsureSuccessStatusCode();
    }

    public async ValueTask DisposeAsync()
    {
        _http.Dispose();
        _namespace.Dispose();
        await _process.KillAsync();
        await _process.DisposeAsync();
    }
}
