using System.Text.Json.Nodes;

namespace Flannel.Cni.Tests.Integration;

/// <summary>The shipped conflist (flannel then portmap) run as a runtime runs a chain.</summary>
public sealed class ConflistTests : IDisposable
{
    private readonly CniNode _node = new();

    public void Dispose() => _node.Dispose();

    private static string ShippedConflist()
    {
        string? repo = AppContext.BaseDirectory;
        while (repo is not null && !File.Exists(Path.Combine(repo, "Flannel.slnx")))
        {
            repo = Path.GetDirectoryName(repo);
        }

        return File.ReadAllText(Path.Combine(repo!, "deploy", "10-flannel.conflist"));
    }

    /// <summary>What libcni hands each plugin of a list: the plugin's object plus the list's name and cniVersion.</summary>
    private static JsonObject PluginConf(JsonObject list, int index)
    {
        var conf = (JsonObject)list["plugins"]![index]!.DeepClone();
        conf["name"] = list["name"]!.DeepClone();
        conf["cniVersion"] = list["cniVersion"]!.DeepClone();
        return conf;
    }

    [Fact]
    public void Conflist_FlannelThenPortmap_AddAndDelInChain()
    {
        var list = JsonNode.Parse(ShippedConflist())!.AsObject();
        Assert.Equal("cbr0", (string?)list["name"]);
        string pod = _node.AddNamespace("pod");

        // Only the node-local paths change, so nothing touches /run/flannel or /var/lib on the test machine.
        JsonObject flannel = PluginConf(list, 0);
        flannel["subnetFile"] = _node.SubnetFile;
        flannel["dataDir"] = _node.DataDir;
        flannel["ipam"] = new JsonObject { ["dataDir"] = _node.IpamDir };
        JsonObject portmap = PluginConf(list, 1);
        portmap["runtimeConfig"] = new JsonObject
        {
            ["portMappings"] = new JsonArray(new JsonObject { ["hostPort"] = 18080, ["containerPort"] = 80, ["protocol"] = "tcp" }),
        };

        Cmd.Outcome add = _node.Flannel("ADD", flannel, "c1", pod);
        Assert.True(add.Exit == 0, Cmd.Describe(add));
        JsonObject result = JsonNode.Parse(add.Stdout)!.AsObject();
        Assert.Equal("0.3.1", (string?)result["cniVersion"]);
        Assert.Equal("4", (string?)result["ips"]![0]!["version"]);

        portmap["prevResult"] = result.DeepClone();
        Cmd.Outcome portmapAdd = _node.Exec("/usr/lib/cni/portmap", "ADD", portmap, "c1", pod);
        Assert.True(portmapAdd.Exit == 0, Cmd.Describe(portmapAdd));
        JsonObject final = JsonNode.Parse(portmapAdd.Stdout)!.AsObject();
        Assert.Equal(result["ips"]!.ToJsonString(), final["ips"]!.ToJsonString());
        string address = ((string)result["ips"]![0]!["address"]!).Split('/')[0];
        string nat = Cmd.Run("ip", ["netns", "exec", _node.Name, "iptables-save", "-t", "nat"]).Stdout;
        Assert.Contains($"--to-destination {address}:80", nat, StringComparison.Ordinal);

        // DEL in reverse order, each with the chain's final result.
        portmap["prevResult"] = final.DeepClone();
        Cmd.Outcome portmapDel = _node.Exec("/usr/lib/cni/portmap", "DEL", portmap, "c1", pod);
        Assert.True(portmapDel.Exit == 0, Cmd.Describe(portmapDel));
        flannel["prevResult"] = final.DeepClone();
        Cmd.Outcome del = _node.Flannel("DEL", flannel, "c1", pod);
        Assert.True(del.Exit == 0, Cmd.Describe(del));

        nat = Cmd.Run("ip", ["netns", "exec", _node.Name, "iptables-save", "-t", "nat"]).Stdout;
        Assert.DoesNotContain($"--to-destination {address}:80", nat, StringComparison.Ordinal);
        Assert.Empty(CniNode.IpJson(_node.Name, "link", "show", "master", "cni0"));
        Assert.False(File.Exists(Path.Combine(_node.DataDir, "c1")));
    }
}
