using System.Text;
using System.Text.Json.Nodes;

namespace Flannel.Cni.Tests;

/// <summary>The plugin run in-process on every bad input: each answers with the spec's error object and exit 1.</summary>
public sealed class PluginTests : IDisposable
{
    private const string Env = "FLANNEL_NETWORK=198.18.0.0/16\nFLANNEL_SUBNET=198.18.30.1/24\nFLANNEL_MTU=1450\nFLANNEL_IPMASQ=true\n";
    private readonly string _root = Directory.CreateTempSubdirectory("fnt-cni-plugin-").FullName;
    private readonly string _subnetFile;
    private readonly string _dataDir;
    private readonly string _emptyBin;

    public PluginTests()
    {
        _subnetFile = Path.Combine(_root, "subnet.env");
        File.WriteAllText(_subnetFile, Env);
        _dataDir = Path.Combine(_root, "state");
        _emptyBin = Directory.CreateDirectory(Path.Combine(_root, "bin")).FullName;
    }

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private string Conf(string version = "1.0.0", string extra = "") =>
        $$"""{"cniVersion":"{{version}}","name":"cbr0","type":"flannel","subnetFile":"{{_subnetFile}}","dataDir":"{{_dataDir}}"{{extra}}}""";

    private static Dictionary<string, string> Vars(string command, string containerId = "c1", string? path = "/usr/lib/cni") =>
        new(StringComparer.Ordinal)
        {
            ["CNI_COMMAND"] = command,
            ["CNI_CONTAINERID"] = containerId,
            ["CNI_NETNS"] = "/var/run/netns/fnt-does-not-exist",
            ["CNI_IFNAME"] = "eth0",
            ["CNI_PATH"] = path ?? "",
        };

    private static (int Exit, string Stdout) Run(Dictionary<string, string> vars, string stdin)
    {
        using var stdout = new MemoryStream();
        int exit = new Plugin(new CniArgs(vars), () => Encoding.UTF8.GetBytes(stdin), stdout, TextWriter.Null).Run();
        return (exit, Encoding.UTF8.GetString(stdout.ToArray()));
    }

    private static JsonObject AssertError((int Exit, string Stdout) run, int code, string cniVersion = "1.0.0")
    {
        Assert.Equal(1, run.Exit);
        var error = (JsonObject)JsonNode.Parse(run.Stdout)!;
        Assert.Equal(cniVersion, (string?)error["cniVersion"]);
        Assert.Equal(code, (int)error["code"]!);
        Assert.False(string.IsNullOrEmpty((string?)error["msg"]));
        return error;
    }

    [Fact]
    public void Run_MalformedJson_DecodingFailure()
    {
        JsonObject error = AssertError(Run(Vars("ADD"), "{\"cniVersion\":"), CniErrorCode.DecodingFailure, "1.1.0");
        Assert.Contains("network configuration", (string?)error["msg"], StringComparison.Ordinal);
    }

    [Fact]
    public void Run_JsonNotAnObject_DecodingFailure()
    {
        AssertError(Run(Vars("ADD"), "[1]"), CniErrorCode.DecodingFailure, "1.1.0");
    }

    [Fact]
    public void Run_NoCniCommand_InvalidEnvironment()
    {
        var vars = Vars("ADD");
        vars.Remove("CNI_COMMAND");
        JsonObject error = AssertError(Run(vars, Conf()), CniErrorCode.InvalidEnvironmentVariables, "1.1.0");
        Assert.Equal("required env variables [CNI_COMMAND] missing", (string?)error["msg"]);
    }

    [Fact]
    public void Run_UnknownCommand_InvalidEnvironmentNamingIt()
    {
        JsonObject error = AssertError(Run(Vars("ATTACH"), Conf()), CniErrorCode.InvalidEnvironmentVariables, "1.1.0");
        Assert.Equal("unknown CNI_COMMAND: ATTACH", (string?)error["msg"]);
    }

    [Fact]
    public void Add_MissingNetnsAndIfname_NamesBoth()
    {
        var vars = Vars("ADD");
        vars.Remove("CNI_NETNS");
        vars["CNI_IFNAME"] = "";
        JsonObject error = AssertError(Run(vars, Conf()), CniErrorCode.InvalidEnvironmentVariables, "1.1.0");
        Assert.Equal("required env variables [CNI_NETNS CNI_IFNAME] missing", (string?)error["msg"]);
    }

    [Theory]
    [InlineData("ADD")]
    [InlineData("DEL")]
    [InlineData("CHECK")]
    public void Run_UnsupportedVersion_IncompatibleVersion(string command)
    {
        JsonObject error = AssertError(Run(Vars(command), Conf("0.5.0")), CniErrorCode.IncompatibleVersion, "1.1.0");
        Assert.Contains("config is \"0.5.0\"", (string?)error["details"], StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("ADD", "../../etc/cron.d/x")]
    [InlineData("ADD", "/etc/passwd")]
    [InlineData("DEL", "../x")]
    [InlineData("CHECK", "a/b")]
    public void Run_ContainerIdEscapingDataDir_InvalidEnvironmentNoFileWritten(string command, string id)
    {
        JsonObject error = AssertError(Run(Vars(command, id), Conf()), CniErrorCode.InvalidEnvironmentVariables, "1.1.0");
        Assert.Equal(id, (string?)error["details"]);
        Assert.False(Directory.Exists(_dataDir));
    }

    [Theory]
    [InlineData("a-very-long-name")]
    [InlineData("éééééééé")]
    [InlineData("eth:0")]
    [InlineData("eth/0")]
    [InlineData("eth 0")]
    [InlineData("..")]
    public void Add_BadIfName_InvalidEnvironmentNamingIt(string ifName)
    {
        var vars = Vars("ADD");
        vars["CNI_IFNAME"] = ifName;
        JsonObject error = AssertError(Run(vars, Conf()), CniErrorCode.InvalidEnvironmentVariables, "1.1.0");
        Assert.Equal(ifName, (string?)error["details"]);
    }

    [Fact]
    public void Add_NoSubnetEnv_TryAgainLaterPointsAtFlanneldNoState()
    {
        File.Delete(_subnetFile);
        JsonObject error = AssertError(Run(Vars("ADD"), Conf()), CniErrorCode.TryAgainLater);
        Assert.Contains($"open {_subnetFile}: no such file or directory. Check the flannel pod log for this node.", (string?)error["msg"], StringComparison.Ordinal);
        Assert.Contains("flanneld", (string?)error["details"], StringComparison.Ordinal);
        Assert.False(Directory.Exists(_dataDir));
    }

    [Fact]
    public void Add_DelegateBinaryMissing_ErrorNamesPluginAndPathNoState()
    {
        JsonObject error = AssertError(Run(Vars("ADD", path: _emptyBin), Conf()), CniErrorCode.InvalidEnvironmentVariables);
        Assert.Equal($"failed to find plugin \"bridge\" in path [{_emptyBin}]", (string?)error["msg"]);
        Assert.False(File.Exists(Path.Combine(_dataDir, "c1")));
    }

    [Fact]
    public void Add_DelegateTypeIsAPath_InvalidNetworkConfig()
    {
        AssertError(Run(Vars("ADD"), Conf(extra: ",\"delegate\":{\"type\":\"../../bin/sh\"}")), CniErrorCode.InvalidNetworkConfig);
    }

    [Fact]
    public void Add_DelegateName_UnsupportedField()
    {
        JsonObject error = AssertError(Run(Vars("ADD"), Conf(extra: ",\"delegate\":{\"name\":\"x\"}")), CniErrorCode.UnsupportedField);
        Assert.Equal("'delegate' dictionary must not have 'name' field, it'll be set by flannel", (string?)error["msg"]);
    }

    [Fact]
    public void Add_DelegateFails_ErrorPassedThroughAndStateRemoved()
    {
        // The real loopback plugin fails on a netns that does not exist, touching nothing.
        (int exit, string stdout) = Run(Vars("ADD"), Conf(extra: ",\"delegate\":{\"type\":\"loopback\"}"));
        Assert.Equal(1, exit);
        var error = (JsonObject)JsonNode.Parse(stdout)!;
        Assert.Contains("fnt-does-not-exist", error.ToJsonString(), StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(_dataDir, "c1")));
    }

    [Fact]
    public void Add_DelegateFailsWithoutErrorObject_ErrorQuotesExitAndStateRemoved()
    {
        // /bin/false as the delegate: exit 1, nothing on stdout.
        File.CreateSymbolicLink(Path.Combine(_emptyBin, "bridge"), "/bin/false");
        JsonObject error = AssertError(Run(Vars("ADD", path: _emptyBin), Conf()), CniErrorCode.Internal);
        Assert.Equal("delegate bridge ADD failed with exit code 1", (string?)error["msg"]);
        Assert.False(File.Exists(Path.Combine(_dataDir, "c1")));
    }

    [Fact]
    public void Add_DelegateCannotBeExecuted_IoFailureNamesPathAndReasonNoState()
    {
        // A dangling symlink is found in CNI_PATH, but exec fails with ENOENT.
        string bridge = Path.Combine(_emptyBin, "bridge");
        File.CreateSymbolicLink(bridge, Path.Combine(_root, "no-such-bridge"));
        JsonObject error = AssertError(Run(Vars("ADD", path: _emptyBin), Conf()), CniErrorCode.IoFailure);
        Assert.Equal($"failed to run delegate {bridge}: No such file or directory", (string?)error["msg"]);
        Assert.False(File.Exists(Path.Combine(_dataDir, "c1")));
    }

    [Fact]
    public void Del_NoState_SucceedsSilently()
    {
        Assert.Equal((0, ""), Run(Vars("DEL", path: _emptyBin), Conf()));
    }

    [Fact]
    public void Del_StateButDelegateMissing_ErrorAndStateKept()
    {
        Directory.CreateDirectory(_dataDir);
        File.WriteAllText(Path.Combine(_dataDir, "c1"), "{\"cniVersion\":\"1.0.0\",\"type\":\"bridge\"}");
        AssertError(Run(Vars("DEL", path: _emptyBin), Conf()), CniErrorCode.InvalidEnvironmentVariables);
        Assert.True(File.Exists(Path.Combine(_dataDir, "c1")));
    }

    [Fact]
    public void Del_DamagedState_RemovedAndSuccess()
    {
        Directory.CreateDirectory(_dataDir);
        File.WriteAllText(Path.Combine(_dataDir, "c1"), "{not json");
        Assert.Equal((0, ""), Run(Vars("DEL"), Conf()));
        Assert.False(File.Exists(Path.Combine(_dataDir, "c1")));
    }

    [Fact]
    public void Check_NoState_UnknownContainer()
    {
        JsonObject error = AssertError(Run(Vars("CHECK"), Conf(extra: ",\"prevResult\":{\"cniVersion\":\"1.0.0\"}")), CniErrorCode.UnknownContainer);
        Assert.Contains("c1", (string?)error["msg"], StringComparison.Ordinal);
    }

    [Fact]
    public void Check_NoPrevResult_InvalidNetworkConfig()
    {
        Directory.CreateDirectory(_dataDir);
        File.WriteAllText(Path.Combine(_dataDir, "c1"), "{\"cniVersion\":\"1.0.0\",\"type\":\"bridge\"}");
        AssertError(Run(Vars("CHECK"), Conf()), CniErrorCode.InvalidNetworkConfig);
    }

    [Fact]
    public void Check_SubnetMovedSinceAdd_Fails()
    {
        Directory.CreateDirectory(_dataDir);
        File.WriteAllText(Path.Combine(_dataDir, "c1"),
            """{"cniVersion":"1.0.0","ipam":{"ranges":[[{"subnet":"198.18.99.0/24"}]],"type":"host-local"},"type":"bridge"}""");
        JsonObject error = AssertError(Run(Vars("CHECK"), Conf(extra: ",\"prevResult\":{\"cniVersion\":\"1.0.0\"}")), CniErrorCode.InvalidNetworkConfig);
        Assert.Contains("198.18.99.0/24", (string?)error["msg"], StringComparison.Ordinal);
    }

    [Fact]
    public void Check_Version031_NotAllowed()
    {
        JsonObject error = AssertError(Run(Vars("CHECK"), Conf("0.3.1")), CniErrorCode.IncompatibleVersion, "0.3.1");
        Assert.Equal("config version does not allow CHECK", (string?)error["msg"]);
    }

    [Theory]
    [InlineData("GC")]
    [InlineData("STATUS")]
    public void GcAndStatus_Version100_NotAllowed(string command)
    {
        AssertError(Run(Vars(command), Conf()), CniErrorCode.IncompatibleVersion);
    }

    [Fact]
    public void Status_SubnetEnvPresent_SuccessNoOutput()
    {
        Assert.Equal((0, ""), Run(Vars("STATUS"), Conf("1.1.0")));
    }

    [Fact]
    public void Status_NoSubnetEnv_PluginNotAvailable()
    {
        File.Delete(_subnetFile);
        JsonObject error = AssertError(Run(Vars("STATUS"), Conf("1.1.0")), CniErrorCode.PluginNotAvailable, "1.1.0");
        Assert.Contains("Check the flannel pod log for this node", (string?)error["msg"], StringComparison.Ordinal);
    }

    [Fact]
    public void Status_IncompleteSubnetEnv_PluginNotAvailable()
    {
        File.WriteAllText(_subnetFile, "FLANNEL_NETWORK=198.18.0.0/16\n");
        JsonObject error = AssertError(Run(Vars("STATUS"), Conf("1.1.0")), CniErrorCode.PluginNotAvailable, "1.1.0");
        Assert.Contains("is missing FLANNEL_SUBNET, FLANNEL_IPV6_SUBNET, FLANNEL_MTU, FLANNEL_IPMASQ", (string?)error["msg"], StringComparison.Ordinal);
    }

    [Fact]
    public void Gc_StateOfContainersNotListed_RemovedOtherNetworksKept()
    {
        Directory.CreateDirectory(_dataDir);
        foreach (string id in (string[])["keep", "stale1", "stale2"])
        {
            File.WriteAllText(Path.Combine(_dataDir, id), "{\"name\":\"cbr0\",\"type\":\"bridge\"}");
        }

        File.WriteAllText(Path.Combine(_dataDir, "damaged"), "{");
        File.WriteAllText(Path.Combine(_dataDir, "other-net"), "{\"name\":\"second\",\"type\":\"bridge\"}");

        // No subnet.env: GC of our own state needs none, and the delegate is not asked.
        File.Delete(_subnetFile);
        (int exit, string stdout) = Run(Vars("GC"), Conf("1.1.0", ",\"cni.dev/valid-attachments\":[{\"containerID\":\"keep\",\"ifname\":\"eth0\"}]"));
        Assert.Equal((0, ""), (exit, stdout));
        Assert.Equal(["keep", "other-net"], Directory.GetFiles(_dataDir).Select(Path.GetFileName).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Version_ListsAllSpecVersionsTo110()
    {
        Assert.Equal(
            (0, "{\"cniVersion\":\"1.1.0\",\"supportedVersions\":[\"0.1.0\",\"0.2.0\",\"0.3.0\",\"0.3.1\",\"0.4.0\",\"1.0.0\",\"1.1.0\"]}\n"),
            Run(Vars("VERSION"), ""));
    }
}
