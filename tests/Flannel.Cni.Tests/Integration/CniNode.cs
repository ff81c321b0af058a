using System.Security.Cryptography;
using System.Text.Json.Nodes;

namespace Flannel.Cni.Tests.Integration;

/// <summary>
/// A "node" for the plugin: a network namespace the plugin (and bridge, host-local, portmap) runs in, pod
/// namespaces beside it, and a temp directory for subnet.env, our dataDir and host-local's dataDir. Everything is
/// removed on Dispose, even after a failed test.
/// </summary>
internal sealed class CniNode : IDisposable
{
    public const string Subnet = "198.18.30.0/24";
    public const string Network = "198.18.0.0/16";
    public const string SubnetEnv = "FLANNEL_NETWORK=198.18.0.0/16\nFLANNEL_SUBNET=198.18.30.1/24\nFLANNEL_MTU=1450\nFLANNEL_IPMASQ=true\n";

    private readonly List<string> _namespaces = [];

    public CniNode()
    {
        Prefix = "fnt-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(3));
        Root = Directory.CreateTempSubdirectory(Prefix + "-").FullName;
        SubnetFile = Path.Combine(Root, "subnet.env");
        DataDir = Path.Combine(Root, "flannel");
        IpamDir = Path.Combine(Root, "ipam");
        try
        {
            File.WriteAllText(SubnetFile, SubnetEnv);
            Binary = PluginBinary();
            Name = AddNamespace("node");
            Cmd.Ip("-n", Name, "link", "set", "lo", "up");
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    public string Prefix { get; }

    public string Root { get; }

    public string Name { get; } = "";

    public string SubnetFile { get; }

    public string DataDir { get; }

    public string IpamDir { get; }

    public string Binary { get; } = "";

    /// <summary>The published AOT plugin: FLANNEL_BIN_DIR, else &lt;repo&gt;/artifacts/bin.</summary>
    public static string PluginBinary()
    {
        string? dir = Environment.GetEnvironmentVariable("FLANNEL_BIN_DIR");
        if (string.IsNullOrEmpty(dir))
        {
            string? repo = AppContext.BaseDirectory;
            while (repo is not null && !File.Exists(Path.Combine(repo, "Flannel.slnx")))
            {
                repo = Path.GetDirectoryName(repo);
            }

            dir = Path.Combine(repo ?? ".", "artifacts", "bin");
        }

        string binary = Path.Combine(dir, "flannel");
        Assert.True(File.Exists(binary), $"{binary} is missing: run scripts/publish.sh (or set FLANNEL_BIN_DIR)");
        return binary;
    }

    public string AddNamespace(string name)
    {
        string full = $"{Prefix}-{name}";
        Cmd.Ip("netns", "add", full);
        _namespaces.Add(full);
        return full;
    }

    /// <summary>The flannel netconf as in the shipped conflist, pointed at this node's temp directories.</summary>
    public JsonObject NetConf(string cniVersion = "1.0.0", string name = "cbr0")
    {
        return new JsonObject
        {
            ["cniVersion"] = cniVersion,
            ["name"] = name,
            ["type"] = "flannel",
            ["subnetFile"] = SubnetFile,
            ["dataDir"] = DataDir,
            ["ipam"] = new JsonObject { ["dataDir"] = IpamDir },
            ["delegate"] = new JsonObject { ["hairpinMode"] = true, ["isDefaultGateway"] = true },
        };
    }

    /// <summary>Execs a CNI plugin inside the node namespace as a runtime would.</summary>
    public Cmd.Outcome Exec(string plugin, string command, JsonNode conf, string containerId, string? podNamespace, string ifName = "eth0")
    {
        var environment = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["CNI_COMMAND"] = command,
            ["CNI_CONTAINERID"] = containerId,
            ["CNI_NETNS"] = podNamespace is null ? "" : $"/var/run/netns/{podNamespace}",
            ["CNI_IFNAME"] = ifName,
            ["CNI_PATH"] = "/usr/lib/cni",
        };
        return Cmd.Run("ip", ["netns", "exec", Name, plugin], conf.ToJsonString(), environment);
    }

    public Cmd.Outcome Flannel(string command, JsonNode conf, string containerId, string? podNamespace, string ifName = "eth0") =>
        Exec(Binary, command, conf, containerId, podNamespace, ifName);

    /// <summary><c>ip -j</c> in a namespace, parsed.</summary>
    public static JsonArray IpJson(string ns, params string[] arguments) =>
        JsonNode.Parse(Cmd.Ip(["-j", "-n", ns, .. arguments]) is { Length: > 0 } text ? text : "[]")!.AsArray();

    public void Dispose()
    {
        foreach (string ns in _namespaces)
        {
            Cmd.Run("ip", ["netns", "del", ns]);
        }

        Directory.Delete(Root, recursive: true);
    }
}
