using System.Globalization;
using System.Text.Json.Nodes;

namespace Flannel.Lab;

/// <summary>
/// A flannel cluster in network namespaces: an underlay namespace with a bridge (192.0.2.254, where etcd listens),
/// node namespaces on 192.0.2.0/24 each running flanneld, and pod namespaces attached to nodes through the CNI plugin.
/// Everything it creates carries its prefix and is removed on dispose, even after a failure.
/// </summary>
public sealed class LabCluster : IAsyncDisposable
{
    private readonly List<LabNode> _nodes = [];
    private LabProcess? _etcd;
    private readonly List<LabEtcdMember> _members = [];

    private LabCluster(LabOptions options)
    {
        Options = options;
        WorkDir = Path.Combine(Path.GetTempPath(), "flannel-lab-" + options.Prefix);
        UnderlayNamespace = options.Prefix + "-net";
    }

    public LabOptions Options { get; }

    public string WorkDir { get; }

    public string UnderlayNamespace { get; }

    public IReadOnlyList<LabNode> Nodes => _nodes;

    /// <summary>The etcd members when <see cref="LabOptions.EtcdMembers"/> is more than 1; empty otherwise.</summary>
    public IReadOnlyList<LabEtcdMember> EtcdMembers => _members;

    /// <summary>The client endpoints flanneld and etcdctl are given, comma-separated.</summary>
    public string EtcdEndpoints => _members.Count == 0 ? LabPaths.EtcdEndpoint : string.Join(',', _members.Select(m => m.Endpoint));

    public static async Task<LabCluster> CreateAsync(LabOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        var cluster = new LabCluster(options);
        try
        {
            await cluster.BuildAsync(cancellationToken);
            return cluster;
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
    }

    private async Task BuildAsync(CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(WorkDir);
        await Shell.CheckAsync("ip", ["netns", "add", UnderlayNamespace], cancellationToken: cancellationToken);
        await Ip(UnderlayNamespace, "link", "set", "lo", "up");
        await Ip(UnderlayNamespace, "link", "add", "br0", "type", "bridge");
        await Ip(UnderlayNamespace, "addr", "add", LabPaths.EtcdAddress + "/24", "dev", "br0");
        if (Options.IPv6)
        {
            await Ip(UnderlayNamespace, "-6", "addr", "add", LabPaths.UnderlayGatewayIPv6 + "/64", "dev", "br0", "nodad");
        }

        await Ip(UnderlayNamespace, "link", "set", "br0", "up");
        if (Options.Etcd && Options.EtcdMembers > 1)
        {
            await StartEtcdClusterAsync(cancellationToken);
        }
        else if (Options.Etcd)
        {
            await StartEtcdAsync(cancellationToken);
        }

        for (int i = 1; i <= Options.Nodes; i++)
        {
            await AddNodeAsync(cancellationToken);
        }

        if (Options.Etcd && Options.NetConfig is { } netConfig)
        {
            await EtcdCtlAsync("put", "/coreos.com/network/config", netConfig);
        }
    }

    /// <summary>Adds one more node namespace on the underlay (not yet running flanneld).</summary>
    public async Task<LabNode> AddNodeAsync(CancellationToken cancellationToken = default)
    {
        int index = _nodes.Count + 1;
        var node = new LabNode(this, index);
        _nodes.Add(node);
        await Shell.CheckAsync("ip", ["netns", "add", node.Namespace], cancellationToken: cancellationToken);
        string port = "n" + index.ToString(CultureInfo.InvariantCulture);
        await Ip(UnderlayNamespace, "link", "add", port, "type", "veth", "peer", "name", "eth0", "netns", node.Namespace);
        await Ip(UnderlayNamespace, "link", "set", port, "master", "br0", "up");
        await Ip(node.Namespace, "link", "set", "lo", "up");
        await Ip(node.Namespace, "addr", "add", node.Address + "/24", "dev", "eth0");
        await Ip(node.Namespace, "link", "set", "eth0", "up");
        await Ip(node.Namespace, "route", "add", "default", "via", LabPaths.EtcdAddress);
        await Shell.InNamespaceAsync(node.Namespace, "sysctl", "-qw", "net.ipv4.ip_forward=1");
        if (Options.IPv6)
        {
            // No DAD on the node (cni0's gateway address must answer at once) and IPv6 forwarding for the pods.
            await Shell.InNamespaceAsync(node.Namespace, "sysctl", "-qw", "net.ipv6.conf.all.accept_dad=0", "net.ipv6.conf.default.accept_dad=0", "net.ipv6.conf.all.forwarding=1");
            await Ip(node.Namespace, "-6", "addr", "add", node.AddressIPv6 + "/64", "dev", "eth0", "nodad");
            await Ip(node.Namespace, "-6", "route", "add", "default", "via", LabPaths.UnderlayGatewayIPv6);
        }

        Directory.CreateDirectory(node.WorkDir);
        return node;
    }

    private async Task StartEtcdAsync(CancellationToken cancellationToken)
    {
        string dataDir = Path.Combine(WorkDir, "etcd");
        _etcd = LabProcess.Start(UnderlayNamespace, "etcd",
        [
            "--name", "lab", "--data-dir", dataDir,
            "--listen-client-urls", LabPaths.EtcdEndpoint, "--advertise-client-urls", LabPaths.EtcdEndpoint,
            "--listen-peer-urls", "http://127.0.0.1:2380", "--initial-advertise-peer-urls", "http://127.0.0.1:2380",
            "--initial-cluster", "lab=http://127.0.0.1:2380",
        ], Path.Combine(WorkDir, "etcd.log"));
        for (int attempt = 0; ; attempt++)
        {
            Shell.Result health = await Shell.RunAsync("ip", ["netns", "exec", UnderlayNamespace, "etcdctl", "--endpoints", LabPaths.EtcdEndpoint, "endpoint", "health"], env: EtcdCtlEnv, cancellationToken: cancellationToken);
            if (health.Ok)
            {
                return;
            }

            if (attempt > 100 || _etcd.HasExited)
            {
                throw new InvalidOperationException("etcd did not become healthy: " + _etcd.ReadLog());
            }

            await Task.Delay(100, cancellationToken);
        }
    }

    private async Task StartEtcdClusterAsync(CancellationToken cancellationToken)
    {
        for (int i = 1; i <= Options.EtcdMembers; i++)
        {
            _members.Add(new LabEtcdMember(this, i));
        }

        string initialCluster = string.Join(',', _members.Select(m => $"{m.Name}=http://{m.Address}:2380"));
        foreach (LabEtcdMember member in _members)
        {
            await Shell.CheckAsync("ip", ["netns", "add", member.Namespace], cancellationToken: cancellationToken);
            await Ip(UnderlayNamespace, "link", "add", member.Name, "type", "veth", "peer", "name", "eth0", "netns", member.Namespace);
            await Ip(UnderlayNamespace, "link", "set", member.Name, "master", "br0", "up");
            await Ip(member.Namespace, "link", "set", "lo", "up");
            await Ip(member.Namespace, "addr", "add", member.Address + "/24", "dev", "eth0");
            await Ip(member.Namespace, "link", "set", "eth0", "up");
            member.InitialCluster = initialCluster;
            member.Start("new");
        }

        for (int attempt = 0; ; attempt++)
        {
            Shell.Result health = await Shell.RunAsync("ip", ["netns", "exec", UnderlayNamespace, "etcdctl", "--endpoints", EtcdEndpoints, "endpoint", "health"], env: EtcdCtlEnv, cancellationToken: cancellationToken);
            if (health.Ok)
            {
                return;
            }

            if (attempt > 200)
            {
                throw new InvalidOperationException("etcd cluster did not become healthy: " + health.StdErr + string.Concat(_members.Select(m => m.Process?.ReadLog())));
            }

            await Task.Delay(100, cancellationToken);
        }
    }

    /// <summary>The member etcd reports as leader (asks every member that answers).</summary>
    public async Task<LabEtcdMember> EtcdLeaderAsync()
    {
        Shell.Result status = await Shell.RunAsync("ip", ["netns", "exec", UnderlayNamespace, "etcdctl", "--endpoints", EtcdEndpoints, "endpoint", "status", "-w", "json"], env: EtcdCtlEnv);
        foreach (JsonNode? entry in JsonNode.Parse(status.StdOut)?.AsArray() ?? [])
        {
            ulong leader = (ulong)entry!["Status"]!["leader"]!;
            ulong self = (ulong)entry["Status"]!["header"]!["member_id"]!;
            if (leader == self)
            {
                string endpoint = (string)entry["Endpoint"]!;
                return _members.Single(m => m.Endpoint == endpoint);
            }
        }

        throw new InvalidOperationException("no etcd leader: " + status.StdOut + status.StdErr);
    }

    private static readonly Dictionary<string, string> EtcdCtlEnv = new() { ["ETCDCTL_API"] = "3" };

    /// <summary>Runs etcdctl (v3) against the lab's etcd.</summary>
    public Task<string> EtcdCtlAsync(params string[] args) =>
        Shell.CheckAsync("ip", ["netns", "exec", UnderlayNamespace, "etcdctl", "--endpoints", EtcdEndpoints, .. args], env: EtcdCtlEnv);

    /// <summary>
    /// Puts many keys in few round trips: one etcdctl txn per 100 keys (etcd's default limit is 128 ops per txn).
    /// Values are quoted for etcdctl's txn syntax (a Go string literal); keys must not contain spaces.
    /// </summary>
    public Task EtcdPutManyAsync(IEnumerable<KeyValuePair<string, string>> entries) =>
        EtcdTxnsAsync(entries.Select(e => $"put {e.Key} \"{e.Value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal)}\""));

    /// <summary>Deletes many keys, one etcdctl txn per 100 keys.</summary>
    public Task EtcdDeleteManyAsync(IEnumerable<string> keys) => EtcdTxnsAsync(keys.Select(k => "del " + k));

    private async Task EtcdTxnsAsync(IEnumerable<string> ops)
    {
        foreach (string[] chunk in ops.Chunk(100))
        {
            await EtcdCtlTxnAsync("\n" + string.Join('\n', chunk) + "\n\n\n");
        }
    }

    /// <summary>Runs one etcdctl txn script (compares, blank line, success ops, blank line, failure ops, blank line).</summary>
    public Task<string> EtcdCtlTxnAsync(string script) =>
        Shell.CheckAsync("ip", ["netns", "exec", UnderlayNamespace, "etcdctl", "--endpoints", EtcdEndpoints, "txn"], script, EtcdCtlEnv);

    /// <summary>Every key under the subnets prefix with its value.</summary>
    public async Task<IReadOnlyDictionary<string, string>> GetLeasesAsync()
    {
        string output = await EtcdCtlAsync("get", "--prefix", "/coreos.com/network/subnets/", "-w", "json");
        var result = new SortedDictionary<string, string>(StringComparer.Ordinal);
        if (JsonNode.Parse(output)?["kvs"] is JsonArray kvs)
        {
            foreach (JsonNode? kv in kvs)
            {
                string key = System.Text.Encoding.UTF8.GetString(Convert.FromBase64String((string)kv!["key"]!));
                string value = System.Text.Encoding.UTF8.GetString(Convert.FromBase64String((string)kv["value"]!));
                result[key] = value;
            }
        }

        return result;
    }

    internal static Task<string> Ip(string ns, params string[] args) => Shell.CheckAsync("ip", ["-n", ns, .. args]);

    public async ValueTask DisposeAsync()
    {
        var errors = new List<Exception>();
        foreach (LabNode node in _nodes.AsEnumerable().Reverse())
        {
            try
            {
                await node.DisposeAsync();
            }
            catch (Exception ex) when (ex is InvalidOperationException or IOException or TimeoutException)
            {
                errors.Add(ex);
            }
        }

        foreach (LabEtcdMember member in _members)
        {
            await member.DisposeAsync();
        }

        if (_etcd is not null)
        {
            await _etcd.KillAsync();
            await _etcd.DisposeAsync();
        }

        await Shell.RunAsync("ip", ["netns", "del", UnderlayNamespace]);
        try
        {
            Directory.Delete(WorkDir, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
        }

        if (errors.Count > 0)
        {
            throw new AggregateException("lab teardown had errors", errors);
        }
    }
}
