using System.Globalization;
using System.Text.Json.Nodes;
using Flannel.Core.Config;

namespace Flannel.Lab;

/// <summary>A node namespace: eth0 on the underlay, its own subnet.env, flanneld, and the pods attached to it.</summary>
public sealed class LabNode : IAsyncDisposable
{
    private readonly LabCluster _cluster;
    private readonly List<LabPod> _pods = [];

    internal LabNode(LabCluster cluster, int index)
    {
        _cluster = cluster;
        Index = index;
        Name = "n" + index.ToString(CultureInfo.InvariantCulture);
        Namespace = cluster.Options.Prefix + "-" + Name;
        Address = "192.0.2." + index.ToString(CultureInfo.InvariantCulture);
        AddressIPv6 = LabPaths.UnderlayPrefixIPv6 + index.ToString("x", CultureInfo.InvariantCulture);
        WorkDir = Path.Combine(cluster.WorkDir, Name);
    }

    public int Index { get; }

    public string Name { get; }

    public string Namespace { get; }

    public string Address { get; }

    /// <summary>The node's underlay IPv6 address (configured only when the lab runs with <see cref="LabOptions.IPv6"/>).</summary>
    public string AddressIPv6 { get; }

    public string WorkDir { get; }

    public string SubnetFile => Path.Combine(WorkDir, "subnet.env");

    public LabProcess? Flanneld { get; private set; }

    public IReadOnlyList<LabPod> Pods => _pods;

    /// <summary>Starts flanneld in this node's namespace with the lab's etcd and this node's subnet file.</summary>
    public LabProcess StartFlanneld(params string[] extraArgs) => StartFlanneld(null, extraArgs);

    /// <summary>Starts flanneld with this node's subnet file, the lab's etcd (when it runs one), extra environment
    /// variables (NODE_NAME in Kubernetes mode) and extra flags.</summary>
    public LabProcess StartFlanneld(IDictionary<string, string>? env, params string[] extraArgs)
    {
        if (Flanneld is { HasExited: false })
        {
            throw new InvalidOperationException($"flanneld already runs on {Name}");
        }

        string[] args =
        [
            .. _cluster.Options.Etcd ? ["--etcd-endpoints=" + _cluster.EtcdEndpoints] : Array.Empty<string>(),
            "--subnet-file=" + SubnetFile,
            .. extraArgs,
        ];
        Flanneld = LabProcess.Start(Namespace, Path.Combine(_cluster.Options.BinDir, "flanneld"), args, Path.Combine(WorkDir, "flanneld.log"), env);
        return Flanneld;
    }

    /// <summary>Waits until subnet.env exists and parses (flanneld wrote it), or fails with flanneld's log.</summary>
    public async Task<SubnetEnv> WaitForSubnetEnvAsync(TimeSpan timeout)
    {
        DateTime deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            if (File.Exists(SubnetFile))
            {
                return SubnetEnvFile.TryRead(SubnetFile) ?? throw new InvalidOperationException("subnet.env vanished");
            }

            if (DateTime.UtcNow > deadline || Flanneld is { HasExited: true })
            {
                throw new TimeoutException($"{Name}: no subnet.env after {timeout}; flanneld log:\n{Flanneld?.ReadLog()}");
            }

            await Task.Delay(20);
        }
    }

    /// <summary>Cuts this node off from etcd (tcp/2379 dropped in its namespace) while its data path stays up.</summary>
    public Task CutOffFromEtcdAsync() =>
        ExecAsync("iptables", "-w", "-I", "OUTPUT", "-p", "tcp", "--dport", "2379", "-j", "DROP");

    /// <summary>Undoes <see cref="CutOffFromEtcdAsync"/>.</summary>
    public Task ReconnectToEtcdAsync() =>
        ExecAsync("iptables", "-w", "-D", "OUTPUT", "-p", "tcp", "--dport", "2379", "-j", "DROP");

    /// <summary>Runs a command in this node's namespace.</summary>
    public Task<string> ExecAsync(string file, params string[] args) => Shell.InNamespaceAsync(Namespace, file, args);

    public Task<string> IpAsync(params string[] args) => LabCluster.Ip(Namespace, args);

    /// <summary>The CNI network configuration the lab's runtime hands the flannel plugin on this node.</summary>
    public string CniNetConf(string cniVersion = "1.0.0") => new JsonObject
    {
        ["cniVersion"] = cniVersion,
        ["name"] = "lab-" + Name,
        ["type"] = "flannel",
        ["subnetFile"] = SubnetFile,
        ["dataDir"] = Path.Combine(WorkDir, "cni"),
        ["ipam"] = new JsonObject { ["dataDir"] = Path.Combine(WorkDir, "ipam") },
        ["delegate"] = new JsonObject { ["hairpinMode"] = true, ["isDefaultGateway"] = true },
    }.ToJsonString();

    /// <summary>Creates a pod namespace and attaches it through the flannel CNI plugin, as a container runtime would.</summary>
    public async Task<LabPod> AddPodAsync()
    {
        string name = Name + "p" + (_pods.Count + 1).ToString(CultureInfo.InvariantCulture);
        var pod = new LabPod(this, _cluster.Options.Prefix + "-" + name, name);
        await Shell.CheckAsync("ip", ["netns", "add", pod.Namespace]);
        _pods.Add(pod);
        string result = await CniAsync("ADD", pod);
        pod.AddressIPv6 = ParseAddress(result, ipv6: true);
        pod.Address = ParseAddress(result, ipv6: false) ?? pod.AddressIPv6 ?? throw new InvalidOperationException("CNI result has no address: " + result);
        return pod;
    }

    internal Task<string> CniAsync(string command, LabPod pod)
    {
        var env = new Dictionary<string, string>
        {
            ["CNI_COMMAND"] = command,
            ["CNI_CONTAINERID"] = pod.ContainerId,
            ["CNI_NETNS"] = "/var/run/netns/" + pod.Namespace,
            ["CNI_IFNAME"] = "eth0",
            ["CNI_PATH"] = _cluster.Options.BinDir + ":" + LabPaths.CniPluginDir,
        };
        return Shell.CheckAsync("ip", ["netns", "exec", Namespace, Path.Combine(_cluster.Options.BinDir, "flannel")], CniNetConf(), env);
    }

    private static string? ParseAddress(string result, bool ipv6)
    {
        JsonArray ips = JsonNode.Parse(result)?["ips"]?.AsArray() ?? [];
        return ips.Select(ip => ip?["address"]?.GetValue<string>()?.Split('/')[0])
            .FirstOrDefault(address => address is not null && address.Contains(':', StringComparison.Ordinal) == ipv6);
    }

    public async ValueTask DisposeAsync()
    {
        if (Flanneld is not null)
        {
            await Flanneld.StopAsync(TimeSpan.FromSeconds(5));
            await Flanneld.DisposeAsync();
        }

        foreach (LabPod pod in _pods)
        {
            await Shell.RunAsync("ip", ["netns", "del", pod.Namespace]);
        }

        await Shell.RunAsync("ip", ["netns", "del", Namespace]);
    }
}
