namespace Flannel.Lab;

/// <summary>A pod: a network namespace with eth0 attached to its node's cni0 by the CNI plugin.</summary>
public sealed class LabPod
{
    internal LabPod(LabNode node, string ns, string name)
    {
        Node = node;
        Namespace = ns;
        Name = name;
    }

    public LabNode Node { get; }

    public string Namespace { get; }

    public string Name { get; }

    public string ContainerId => Namespace;

    /// <summary>The pod's IPv4 address from the CNI result (its IPv6 address on an IPv6-only network).</summary>
    public string Address { get; internal set; } = "";

    /// <summary>The pod's IPv6 address from the CNI result; null when the network is IPv4 only.</summary>
    public string? AddressIPv6 { get; internal set; }

    /// <summary>Pings <paramref name="address"/> from the pod; true when a reply came.</summary>
    public async Task<bool> PingAsync(string address, int count = 1, double timeoutSeconds = 2)
    {
        Shell.Result result = await Shell.RunAsync("ip",
        [
            "netns", "exec", Namespace, "ping", "-n", "-q", "-c", count.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "-W", timeoutSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture), address,
        ]);
        return result.Ok;
    }

    public Task<string> ExecAsync(string file, params string[] args) => Shell.InNamespaceAsync(Namespace, file, args);

    /// <summary>Detaches the pod through the CNI plugin (DEL), as a runtime does when the pod goes.</summary>
    public Task<string> DeleteAsync() => Node.CniAsync("DEL", this);
}
