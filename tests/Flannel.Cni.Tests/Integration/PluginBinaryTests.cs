using System.Text.Json.Nodes;
using Flannel.Core.Net;

namespace Flannel.Cni.Tests.Integration;

/// <summary>
/// The published AOT plugin exec'd as a runtime would, inside a test node namespace, with the real bridge,
/// host-local and portmap plugins from /usr/lib/cni.
/// </summary>
public sealed class PluginBinaryTests : IDisposable
{
    private readonly CniNode _node = new();

    public void Dispose() => _node.Dispose();

    private JsonObject Add(JsonObject conf, string containerId, string pod)
    {
        Cmd.Outcome add = _node.Flannel("ADD", conf, containerId, pod);
        Assert.True(add.Exit == 0, Cmd.Describe(add));
        return JsonNode.Parse(add.Stdout)!.AsObject();
    }

    private static JsonArray VethsOnCni0(string node) => CniNode.IpJson(node, "link", "show", "master", "cni0");

    [Fact]
    public void Lifecycle_AddCheckDelDel_PodWiredToCni0ThenGone()
    {
        string pod = _node.AddNamespace("pod1");
        JsonObject conf = _node.NetConf();
        JsonObject result = Add(conf, "c1", pod);

        // Result: the pod's address inside FLANNEL_SUBNET, gateway the bridge.
        Assert.Equal("1.0.0", (string?)result["cniVersion"]);
        string address = (string)result["ips"]![0]!["address"]!;
        Assert.True(Ip4Net.Parse("198.18.30.0/24").Contains(Ip4Net.Parse(address).Address), address);
        Assert.Equal("198.18.30.1", (string?)result["ips"]![0]!["gateway"]);

        // Kernel: the host veth is enslaved to cni0, the pod's eth0 has the address and a route to the cluster network.
        string hostVeth = (string)result["interfaces"]![1]!["name"]!;
        Assert.Contains(VethsOnCni0(_node.Name), link => (string?)link!["ifname"] == hostVeth);
        JsonArray podAddresses = CniNode.IpJson(pod, "-4", "addr", "show", "dev", "eth0");
        Assert.Equal(address, $"{podAddresses[0]!["addr_info"]![0]!["local"]}/{podAddresses[0]!["addr_info"]![0]!["prefixlen"]}");
        JsonArray routes = CniNode.IpJson(pod, "route", "show");
        Assert.Contains(routes, r => (string?)r!["dst"] == CniNode.Network && (string?)r["gateway"] == "198.18.30.1");
        Assert.Contains(routes, r => (string?)r!["dst"] == "default" && (string?)r["gateway"] == "198.18.30.1");
        JsonArray bridge = CniNode.IpJson(_node.Name, "link", "show", "cni0");
        Assert.Equal(1450, (int)bridge[0]!["mtu"]!);

        // State: upstream's rendering, saved 0600.
        string state = Path.Combine(_node.DataDir, "c1");
        Assert.Equal(
            $$"""{"cniVersion":"1.0.0","hairpinMode":true,"ipMasq":false,"ipam":{"dataDir":"{{_node.IpamDir}}","ranges":[[{"subnet":"198.18.30.0/24"}]],"routes":[{"dst":"198.18.0.0/16"}],"type":"host-local"},"isDefaultGateway":true,"isGateway":true,"mtu":1450,"name":"cbr0","type":"bridge"}""",
            File.ReadAllText(state));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(state));

        // CHECK with the ADD's result passes (bridge and host-local really check).
        JsonObject check = (JsonObject)conf.DeepClone();
        check["prevResult"] = result.DeepClone();
        Cmd.Outcome checkRun = _node.Flannel("CHECK", check, "c1", pod);
        Assert.True(checkRun.Exit == 0 && checkRun.Stdout.Length == 0, Cmd.Describe(checkRun));

        // CHECK notices a broken pod: its address removed by hand.
        Cmd.Ip("-n", pod, "addr", "del", address, "dev", "eth0");
        Assert.NotEqual(0, _node.Flannel("CHECK", check, "c1", pod).Exit);
        Cmd.Ip("-n", pod, "addr", "add", address, "dev", "eth0");

        JsonObject del = (JsonObject)conf.DeepClone();
        del["prevResult"] = result.DeepClone();
        Cmd.Outcome delRun = _node.Flannel("DEL", del, "c1", pod);
        Assert.True(delRun.Exit == 0, Cmd.Describe(delRun));
        Assert.Empty(VethsOnCni0(_node.Name));
        Assert.Empty(CniNode.IpJson(pod, "link", "show", "type", "veth"));
        Assert.False(File.Exists(state));

        Cmd.Outcome again = _node.Flannel("DEL", del, "c1", pod);
        Assert.True(again.Exit == 0 && again.Stdout.Length == 0, Cmd.Describe(again));
    }

    [Fact]
    public void Add_FiftyPodsInARow_FiftyDistinctAddressesInSubnet()
    {
        JsonObject conf = _node.NetConf();
        var addresses = new HashSet<string>(StringComparer.Ordinal);
        for (int i = 0; i < 50; i++)
        {
            string pod = _node.AddNamespace($"p{i}");
            JsonObject result = Add(conf, $"pod-{i}", pod);
            string address = (string)result["ips"]![0]!["address"]!;
            Assert.True(Ip4Net.Parse(CniNode.Subnet).Contains(Ip4Net.Parse(address).Address), address);
            Assert.True(addresses.Add(address), $"{address} handed out twice");
        }

        Assert.Equal(50, VethsOnCni0(_node.Name).Count);
        Assert.Equal(50, Directory.GetFiles(_node.DataDir).Length);
        for (int i = 0; i < 50; i++)
        {
            Cmd.Outcome del = _node.Flannel("DEL", conf, $"pod-{i}", $"{_node.Prefix}-p{i}");
            Assert.True(del.Exit == 0, Cmd.Describe(del));
        }

        Assert.Empty(VethsOnCni0(_node.Name));

        // Each DEL sets its state aside and unlinks what earlier DELs set aside: only the last one's is left.
        Assert.Equal([".deleted-pod-49"], Directory.GetFiles(_node.DataDir).Select(Path.GetFileName));
    }

    [Fact]
    public void Gc_ContainerNotInValidAttachments_StateRemovedOthersKept()
    {
        JsonObject conf = _node.NetConf();
        Add(conf, "keep", _node.AddNamespace("keep"));
        Add(conf, "stale", _node.AddNamespace("stale"));

        JsonObject gc = _node.NetConf("1.1.0");
        gc["cni.dev/valid-attachments"] = new JsonArray(new JsonObject { ["containerID"] = "keep", ["ifname"] = "eth0" });
        Cmd.Outcome run = _node.Flannel("GC", gc, "", null);
        Assert.True(run.Exit == 0 && run.Stdout.Length == 0, Cmd.Describe(run));
        Assert.Equal(["keep"], Directory.GetFiles(_node.DataDir).Select(Path.GetFileName));
    }

    [Fact]
    public void Del_WithoutSubnetEnv_Succeeds()
    {
        string pod = _node.AddNamespace("pod");
        JsonObject conf = _node.NetConf();
        Add(conf, "c1", pod);
        File.Delete(_node.SubnetFile);

        Cmd.Outcome del = _node.Flannel("DEL", conf, "c1", pod);
        Assert.True(del.Exit == 0, Cmd.Describe(del));
        Assert.Empty(VethsOnCni0(_node.Name));
        Assert.False(File.Exists(Path.Combine(_node.DataDir, "c1")));
    }

    [Fact]
    public void Add_Version110_OlderBridgeSpoken100_ResultIn110()
    {
        string pod = _node.AddNamespace("pod");
        JsonObject conf = _node.NetConf("1.1.0");
        JsonObject result = Add(conf, "c1", pod);
        Assert.Equal("1.1.0", (string?)result["cniVersion"]);
        Assert.StartsWith("{\"cniVersion\":\"1.0.0\",", File.ReadAllText(Path.Combine(_node.DataDir, "c1")), StringComparison.Ordinal);

        JsonObject check = (JsonObject)conf.DeepClone();
        check["prevResult"] = result.DeepClone();
        Cmd.Outcome checkRun = _node.Flannel("CHECK", check, "c1", pod);
        Assert.True(checkRun.Exit == 0, Cmd.Describe(checkRun));
        Assert.Equal(0, _node.Flannel("DEL", conf, "c1", pod).Exit);
    }

    [Theory]
    [InlineData("0.2.0")]
    [InlineData("0.4.0")]
    public void Add_OlderVersions_ResultInRequestedShape(string version)
    {
        string pod = _node.AddNamespace("pod");
        JsonObject conf = _node.NetConf(version);
        JsonObject result = Add(conf, "c1", pod);
        Assert.Equal(version, (string?)result["cniVersion"]);
        if (version == "0.2.0")
        {
            Assert.StartsWith("198.18.30.", (string?)result["ip4"]!["ip"], StringComparison.Ordinal);
        }
        else
        {
            Assert.Equal("4", (string?)result["ips"]![0]!["version"]);
        }

        Assert.Equal(0, _node.Flannel("DEL", conf, "c1", pod).Exit);
        Assert.Empty(VethsOnCni0(_node.Name));
    }

    [Fact]
    public void Add_PodNamespaceMissing_ErrorNoStateNoReservation()
    {
        JsonObject conf = _node.NetConf();
        Cmd.Outcome add = _node.Flannel("ADD", conf, "c1", $"{_node.Prefix}-absent");
        Assert.Equal(1, add.Exit);
        Assert.NotNull(JsonNode.Parse(add.Stdout)!["code"]);
        Assert.False(File.Exists(Path.Combine(_node.DataDir, "c1")));
        string reservations = Path.Combine(_node.IpamDir, "cbr0");
        Assert.DoesNotContain(Directory.Exists(reservations) ? Directory.GetFiles(reservations) : [], f => Path.GetFileName(f).StartsWith("198.", StringComparison.Ordinal));
    }

    [Fact]
    public void Binary_BadInputs_SpecErrorOnStdoutNonZeroExit()
    {
        Cmd.Outcome malformed = _node.Flannel("DEL", JsonValue.Create("not an object")!, "c1", null);
        Assert.Equal(1, malformed.Exit);
        Assert.Equal(6, (int)JsonNode.Parse(malformed.Stdout)!["code"]!);

        Cmd.Outcome escape = _node.Flannel("DEL", _node.NetConf(), "../../etc", null);
        Assert.Equal(1, escape.Exit);
        Assert.Equal(4, (int)JsonNode.Parse(escape.Stdout)!["code"]!);

        Cmd.Outcome version = _node.Flannel("VERSION", new JsonObject(), "", null);
        Assert.Equal(0, version.Exit);
        Assert.Equal("1.1.0", (string?)JsonNode.Parse(version.Stdout)!["supportedVersions"]![6]);
    }

    [Fact]
    public void Binary_StdoutReaderGone_AnswerDroppedExitZero()
    {
        // The reader (true) has exited before the plugin writes: its write meets EPIPE, which is not its failure.
        Cmd.Outcome run = Cmd.Run("bash", ["-c", "{ sleep 0.2; CNI_COMMAND=VERSION \"$0\"; } | true; echo \"exit ${PIPESTATUS[0]}\" >&2", CniNode.PluginBinary()]);
        Assert.True(run.Stderr == "exit 0\n", Cmd.Describe(run));
    }
}
