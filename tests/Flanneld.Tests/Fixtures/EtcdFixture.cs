using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using Etcdserverpb;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;

namespace Flanneld.Tests.Fixtures;

/// <summary>
/// A real single-node etcd 3.4 on free loopback ports with a temporary data dir; killed and deleted on dispose.
/// Tests share one per class and keep apart by using their own key prefix (<see cref="NewPrefix"/>).
/// </summary>
public class EtcdFixture : IAsyncLifetime
{
    private const string EtcdPath = "/usr/bin/etcd";
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "fnt-etcd-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(3)));
    private readonly StringBuilder _log = new();
    private Process? _process;
    private GrpcChannel? _channel;

    public int ClientPort { get; } = FreePort();

    public int PeerPort { get; } = FreePort();

    public string Endpoint => string.Create(CultureInfo.InvariantCulture, $"{Scheme}://127.0.0.1:{ClientPort}");

    /// <summary>A directory that lives as long as the fixture (data dir, certificates).</summary>
    protected string Dir => _dir;

    protected virtual string Scheme => "http";

    public KV.KVClient Kv => new(Channel);

    public Etcdserverpb.Lease.LeaseClient Leases => new(Channel);

    protected GrpcChannel Channel => _channel ?? throw new InvalidOperationException("etcd is not started");

    /// <summary>A key prefix no other test uses.</summary>
    public static string NewPrefix() => "/fnt-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(3)) + "/network";

    public virtual async Task InitializeAsync()
    {
        Directory.CreateDirectory(_dir);
        Prepare();
        _channel = GrpcChannel.ForAddress(Endpoint, new GrpcChannelOptions { HttpHandler = CreateHandler(), MaxReceiveMessageSize = null });
        await StartAsync();
    }

    public async Task DisposeAsync()
    {
        Kill();
        _channel?.Dispose();
        await Task.Run(() => Directory.Delete(_dir, recursive: true));
    }

    /// <summary>Runs before etcd first starts (a secure fixture writes its certificates here).</summary>
    protected virtual void Prepare()
    {
    }

    /// <summary>The HTTP handler of the fixture's own admin channel.</summary>
    protected virtual HttpMessageHandler CreateHandler() => new SocketsHttpHandler();

    /// <summary>Further etcd flags (TLS).</summary>
    protected virtual IEnumerable<string> ExtraArguments() => [];

    /// <summary>Starts etcd (again) on the same ports and data dir, and waits until it answers.</summary>
    public async Task StartAsync()
    {
        // etcd runs under a small sh watchdog that kills it when this test process goes away without disposing the
        // fixture (a crash or a hang-kill), so that no etcd is ever left behind.
        var start = new ProcessStartInfo("/bin/sh")
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add("""
            parent=$1; dir=$2; shift 2
            "$@" & child=$!
            trap 'kill -9 $child 2>/dev/null' EXIT INT TERM
            while kill -0 "$parent" 2>/dev/null && kill -0 "$child" 2>/dev/null; do sleep 0.5; done
            if ! kill -0 "$parent" 2>/dev/null; then kill -9 $child 2>/dev/null; wait $child; rm -rf "$dir"; fi
            """);
        start.ArgumentList.Add("fnt-etcd-watchdog");
        start.ArgumentList.Add(Environment.ProcessId.ToString(CultureInfo.InvariantCulture));
        start.ArgumentList.Add(_dir);
        start.ArgumentList.Add(EtcdPath);
        string peer = string.Create(CultureInfo.InvariantCulture, $"http://127.0.0.1:{PeerPort}");
        foreach (string arg in new[]
        {
            "--name", "fnt", "--data-dir", Path.Combine(_dir, "data"),
            "--listen-client-urls", Endpoint, "--advertise-client-urls", Endpoint,
            "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer, "--initial-cluster", "fnt=" + peer,
            "--max-txn-ops", "20000", "--log-level", "warn", "--logger", "zap",
        }.Concat(ExtraArguments()))
        {
            start.ArgumentList.Add(arg);
        }

        _process = Process.Start(start) ?? throw new InvalidOperationException("could not start etcd");
        _process.ErrorDataReceived += (_, e) => Append(e.Data);
        _process.OutputDataReceived += (_, e) => Append(e.Data);
        _process.BeginErrorReadLine();
        _process.BeginOutputReadLine();

        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (true)
        {
            try
            {
                await Kv.RangeAsync(new RangeRequest { Key = ByteString.CopyFromUtf8("/ping") }, deadline: DateTime.UtcNow.AddSeconds(1));
                return;
            }
            catch (RpcException) when (DateTime.UtcNow < deadline && !_process.HasExited)
            {
                await Task.Delay(50);
            }
            catch (RpcException ex)
            {
                throw new InvalidOperationException($"etcd did not come up on {Endpoint}: {ex.Status}\n{Log}", ex);
            }
        }
    }

    /// <summary>Kills etcd (SIGKILL: no graceful goodbye to clients), keeping its data dir.</summary>
    public void Kill()
    {
        if (_process is { HasExited: false } process)
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit();
        }

        _process?.Dispose();
        _process = null;
    }

    public string Log
    {
        get
        {
            lock (_log)
            {
                return _log.ToString();
            }
        }
    }

    public async Task<long> PutAsync(string key, string value, long lease = 0)
    {
        PutResponse response = await Kv.PutAsync(new PutRequest { Key = ByteString.CopyFromUtf8(key), Value = ByteString.CopyFromUtf8(value), Lease = lease });
        return response.Header.Revision;
    }

    public async Task<long> DeleteAsync(string key)
    {
        DeleteRangeResponse response = await Kv.DeleteRangeAsync(new DeleteRangeRequest { Key = ByteString.CopyFromUtf8(key) });
        return response.Header.Revision;
    }

    public async Task<Mvccpb.KeyValue?> GetAsync(string key)
    {
        RangeResponse response = await Kv.RangeAsync(new RangeRequest { Key = ByteString.CopyFromUtf8(key) });
        return response.Kvs.Count == 0 ? null : response.Kvs[0];
    }

    public async Task<IReadOnlyList<Mvccpb.KeyValue>> GetPrefixAsync(string prefix)
    {
        byte[] end = Encoding.UTF8.GetBytes(prefix);
        end[^1]++;
        RangeResponse response = await Kv.RangeAsync(new RangeRequest { Key = ByteString.CopyFromUtf8(prefix), RangeEnd = ByteString.CopyFrom(end) });
        return response.Kvs;
    }

    public async Task<long> TtlAsync(long lease)
    {
        LeaseTimeToLiveResponse response = await Leases.LeaseTimeToLiveAsync(new LeaseTimeToLiveRequest { ID = lease });
        return response.TTL;
    }

    public async Task CompactAsync(long revision) =>
        await Kv.CompactAsync(new CompactionRequest { Revision = revision, Physical = true });

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_log)
        {
            _log.AppendLine(line);
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
