using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.Json.Nodes;
using Flannel.Linux.Namespaces;

namespace Flannel.Lab.Kubernetes;

/// <summary>
/// A lab cluster in Kubernetes mode: no etcd; the fake API server listens in the underlay namespace at
/// 192.0.2.254:6443 (plain HTTP, a static bearer token), every node is a Node object with its own podCIDR
/// (198.18.N.0/24 for node N), and flanneld runs with <c>--kube-subnet-mgr</c>, a kubeconfig and a net-conf.json file.
/// </summary>
public sealed class KubeLabCluster : IAsyncDisposable
{
    public const int ApiPort = 6443;

    /// <summary>The token flanneld presents and the fake demands, so the kubeconfig's credentials are exercised.</summary>
    public const string Token = "flannel-lab-token";

    private Socket? _listener;
    private FakeKubeApiServer? _api;

    private KubeLabCluster(LabCluster cluster)
    {
        Cluster = cluster;
        KubeconfigFile = Path.Combine(cluster.WorkDir, "kubeconfig");
        NetConfigFile = Path.Combine(cluster.WorkDir, "net-conf.json");
    }

    public LabCluster Cluster { get; }

    public FakeKubeApiServer Api => _api ?? throw new InvalidOperationException("the API server is not running");

    public string KubeconfigFile { get; }

    public string NetConfigFile { get; }

    public static string ApiEndpoint => $"http://{LabPaths.EtcdAddress}:{ApiPort}";

    /// <summary>Builds the namespaces (without etcd), the API server and one Node object per node.</summary>
    public static async Task<KubeLabCluster> CreateAsync(LabOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        LabCluster cluster = await LabCluster.CreateAsync(options with { Etcd = false }, cancellationToken);
        var kube = new KubeLabCluster(cluster);
        try
        {
            await kube.BuildAsync();
            return kube;
        }
        catch
        {
            await kube.DisposeAsync();
            throw;
        }
    }

    private async Task BuildAsync()
    {
        // Bound inside the underlay namespace, the socket keeps serving there while Kestrel runs in this process.
        using (NetworkNamespace underlay = NetworkNamespace.Open(Cluster.UnderlayNamespace))
        {
            _listener = underlay.Run(() =>
            {
                var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                try
                {
                    socket.Bind(new IPEndPoint(IPAddress.Parse(LabPaths.EtcdAddress), ApiPort));
                    socket.Listen(128);
                    return socket;
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            });
        }

        _api = await FakeKubeApiServer.StartAsync(_listener);
        _api.RequiredBearerToken = Token;
        await File.WriteAllTextAsync(KubeconfigFile, Kubeconfig());
        await File.WriteAllTextAsync(NetConfigFile, Cluster.Options.NetConfig ?? "{}");
        foreach (LabNode node in Cluster.Nodes)
        {
            Register(node);
        }
    }

    /// <summary>The podCIDR the lab gives node N: 198.18.N.0/24.</summary>
    public static string PodCidrOf(LabNode node)
    {
        ArgumentNullException.ThrowIfNull(node);
        return "198.18." + node.Index.ToString(CultureInfo.InvariantCulture) + ".0/24";
    }

    /// <summary>Adds a node namespace and its Node object (flanneld not yet started).</summary>
    public async Task<LabNode> AddNodeAsync(CancellationToken cancellationToken = default)
    {
        LabNode node = await Cluster.AddNodeAsync(cancellationToken);
        Register(node);
        return node;
    }

    /// <summary>Starts flanneld on <paramref name="node"/> as the DaemonSet would: Kubernetes subnet manager, NODE_NAME.</summary>
    public LabProcess StartFlanneld(LabNode node, params string[] extraArgs)
    {
        ArgumentNullException.ThrowIfNull(node);
        var env = new Dictionary<string, string> { ["NODE_NAME"] = node.Name };
        return node.StartFlanneld(env, ["--kube-subnet-mgr", "--kubeconfig-file=" + KubeconfigFile, "--net-config-path=" + NetConfigFile, .. extraArgs]);
    }

    private void Register(LabNode node)
    {
        JsonObject nodeObject = FakeKubeApiServer.NodeObject(node.Name, PodCidrOf(node));
        nodeObject["status"]!["addresses"] = new JsonArray(
            new JsonObject { ["type"] = "InternalIP", ["address"] = node.Address },
            new JsonObject { ["type"] = "Hostname", ["address"] = node.Name });
        Api.AddNode(nodeObject);
    }

    private static string Kubeconfig() => $"""
        apiVersion: v1
        kind: Config
        clusters:
        - name: lab
          cluster:
            server: {ApiEndpoint}
        users:
        - name: flannel
          user:
            token: {Token}
        contexts:
        - name: lab
          context:
            cluster: lab
            user: flannel
        current-context: lab

        """;

    public async ValueTask DisposeAsync()
    {
        // flanneld first, so no daemon sees its API server vanish; the namespaces go last.
        foreach (LabNode node in Cluster.Nodes)
        {
            if (node.Flanneld is { } flanneld)
            {
                await flanneld.StopAsync(TimeSpan.FromSeconds(5));
            }
        }

        if (_api is not null)
        {
            await _api.DisposeAsync();
        }

        _listener?.Dispose();
        await Cluster.DisposeAsync();
    }
}
