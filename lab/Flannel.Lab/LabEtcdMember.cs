using System.Globalization;

namespace Flannel.Lab;

/// <summary>One member of a multi-member lab etcd: its own namespace on the underlay bridge, killable and restartable.</summary>
public sealed class LabEtcdMember : IAsyncDisposable
{
    private readonly LabCluster _cluster;

    internal LabEtcdMember(LabCluster cluster, int index)
    {
        _cluster = cluster;
        Name = "e" + index.ToString(CultureInfo.InvariantCulture);
        Namespace = cluster.Options.Prefix + "-" + Name;
        Address = "192.0.2." + (254 - index).ToString(CultureInfo.InvariantCulture);
        DataDir = Path.Combine(cluster.WorkDir, "etcd-" + Name);
    }

    public string Name { get; }

    public string Namespace { get; }

    public string Address { get; }

    public string Endpoint => $"http://{Address}:2379";

    public string DataDir { get; }

    public LabProcess? Process { get; private set; }

    internal string InitialCluster { get; set; } = "";

    /// <summary>Starts (or restarts, on its existing data directory) this member.</summary>
    public void Start(string clusterState = "existing")
    {
        if (Process is { HasExited: false })
        {
            throw new InvalidOperationException($"etcd {Name} already runs");
        }

        Process = LabProcess.Start(Namespace, "etcd",
        [
            "--name", Name, "--data-dir", DataDir,
            "--listen-client-urls", Endpoint, "--advertise-client-urls", Endpoint,
            "--listen-peer-urls", $"http://{Address}:2380", "--initial-advertise-peer-urls", $"http://{Address}:2380",
            "--initial-cluster", InitialCluster, "--initial-cluster-state", clusterState, "--initial-cluster-token", _cluster.Options.Prefix,
            "--heartbeat-interval", "100", "--election-timeout", "1000",
        ], Path.Combine(_cluster.WorkDir, "etcd-" + Name + ".log"));
    }

    /// <summary>SIGKILLs this member; <see cref="Start"/> brings it back on the same data.</summary>
    public async Task KillAsync()
    {
        if (Process is not null)
        {
            await Process.Kill9Async();
            await Process.DisposeAsync();
            Process = null;
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Process is not null)
        {
            await Process.DisposeAsync();
        }

        await Shell.RunAsync("ip", ["netns", "del", Namespace]);
    }
}
