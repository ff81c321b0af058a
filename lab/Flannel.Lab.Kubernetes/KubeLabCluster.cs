using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.Json.Nodes;
using Flannel.Linux.Namespaces;

namespace Flannel.Lab.Kubernetes;

/// <summary>
/// A lab cluster in Kubernetes mode: no etcd; the fake API server listens in the underlay namespace at
/// 192.0.2.254:6443 (plain HTTP, a static bearer token), every node is a Node object with its own podCIDR
/// (198.18.N.0/24 for node N; with <see cref="LabOptions.IPv6"/> also 2001:db8:100:N::/64, both in spec.podCIDRs as a
/// dual-stack controller manager assigns them; only the IPv6 one for an IPv6-only cluster), and flanneld runs with <c>--kube-subnet-mgr</c>, a kubeconfig and a
/// net-conf.json file.
/// </summary>
public sealed class KubeLabCluster : IAsyncDisposable
{
    public const int ApiPort = 6443;

    /// <summary>The token flanneld presents and the fake demands, so the kubeconfig's credentials are exercised.</summary>
    public const string Token = "flannel-lab-token";

    private Socket? _listener;
    private FakeKubeApiServer? _api;

    private readonly bool _ipv6OnlyPodCidrs;

    private KubeLabCluster(LabCluster cluster, bool ipv6OnlyPodCidrs)
    {
        Cluster = cluster;
        _ipv6OnlyPodCidrs = ipv6OnlyPodCidrs;
        KubeconfigFile = Path.Combine(cluster.WorkDir, "kubeconfig");
        NetConfigFile = Path.Combine(cluster.WorkDir, "net-conf.json");
    }

    public LabCluster Cluster { get; }

    public FakeKubeApiServer Api => _api ?? throw new InvalidOperationException("the API server is not running");

    public string KubeconfigFile { get; }

    public string NetConfigFile { get; }

    public static string ApiEndpoint => $"http://{LabPaths.EtcdAddress}:{ApiPort}";

    /// <summary>
    /// Builds the namespaces (without etcd), the API server and one Node object per node; with
    /// <paramref name="ipv6OnlyPodCidrs"/> (an IPv6 underlay only) each Node gets only its IPv6 podCIDR.
    /// </summary>
    public static async Task<KubeLabCluster> CreateAsync(LabOptions options, bool ipv6OnlyPodCidrs = false, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (ipv6OnlyPodCidrs && !options.IPv6)
        {
            throw new ArgumentException("IPv6-only podCIDRs need an IPv6 underlay (LabOptions.IPv6)", nameof(ipv6OnlyPodCidrs));
        }

        LabCluster cluster = await LabCluster.CreateAsync(options with { Etcd = false }, cancellationToken);
        var kube = new KubeLabCluster(cluster, ipv6OnlyPodCidrs);
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

    /// <summary>The IPv6 podCIDR the lab gives node N on a dual-stack underlay: 2001:db8:100:N::/64 (N in hex), in 2001:db8:100::/56.</summary>
    public static string PodCidrIPv6Of(LabNode node)
    {
        ArgumentNullException.ThrowIfNull(node);
        return "2001:db8:100:" + node.Index.ToString("x", CultureInfo.InvariantCulture) + "::/64";
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
        string[] podCidrs = _ipv6OnlyPodCidrs ? [PodCidrIPv6Of(node)]
            : Cluster.Options.IPv6 ? [PodCidrOf(node), PodCidrIPv6Of(node)]
            : [PodCidrOf(node)];
        JsonObject nodeObject = FakeKubeApiServer.NodeObject(node.Name, podCidrs[0], podCidrs: podCidrs);
        var addresses = new JsonArray(new JsonObject { ["type"] = "InternalIP", ["address"] = node.Address });
        if (Cluster.Options.IPv6)
        {
            addresses.Add(new JsonObject { ["type"] = "InternalIP", ["address"] = node.AddressIPv6 });
        }

        addresses.Add(new JsonObject { ["type"] = "Hostname", ["address"] = node.Name });
        nodeObject["status"]!["addresses"] = addresses;
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
