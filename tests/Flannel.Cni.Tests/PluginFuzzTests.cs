using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using CsCheck;

namespace Flannel.Cni.Tests;

/// <summary>
/// Case 6 of RELIABILITY.md: the plugin, in-process, on generated stdin and CNI_* variables. Whatever comes in, it
/// answers with a valid result (exit 0) or a valid CNI error object (exit 1), never throws, and never leaves a partial
/// or unparsable state file (nor one for an ADD that failed).
/// </summary>
public sealed class PluginFuzzTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("fnt-cni-fuzz-").FullName;
    private readonly string _subnetFile;
    private readonly string _fakeBin;
    private readonly string _emptyBin;
    private int _run;

    public PluginFuzzTests()
    {
        _subnetFile = Path.Combine(_root, "subnet.env");
        File.WriteAllText(_subnetFile, "FLANNEL_NETWORK=198.18.0.0/16\nFLANNEL_SUBNET=198.18.30.1/24\nFLANNEL_MTU=1450\nFLANNEL_IPMASQ=true\n");
        _emptyBin = Directory.CreateDirectory(Path.Combine(_root, "empty-bin")).FullName;

        // A stand-in bridge delegate that succeeds, so the success paths (state file written, result relayed) run too.
        _fakeBin = Directory.CreateDirectory(Path.Combine(_root, "bin")).FullName;
        string bridge = Path.Combine(_fakeBin, "bridge");
        File.WriteAllText(bridge, """
            #!/bin/sh
            cat >/dev/null
            if [ "$CNI_COMMAND" = ADD ]; then
              printf '%s' '{"cniVersion":"1.0.0","interfaces":[{"name":"eth0","mac":"0a:58:c6:12:1e:02","sandbox":"/var/run/netns/x"}],"ips":[{"address":"198.18.30.2/24","gateway":"198.18.30.1","interface":0}]}'
            fi
            exit 0
            """.Replace("\r", "", StringComparison.Ordinal));
        File.SetUnixFileMode(bridge, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
    }

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private static readonly Gen<JsonNode?> AnyJsonValue = Gen.OneOf(
        Gen.Const((JsonNode?)null),
        Gen.Int.Select(i => (JsonNode?)JsonValue.Create(i)),
        Gen.Bool.Select(b => (JsonNode?)JsonValue.Create(b)),
        Gen.String[0, 12].Select(s => (JsonNode?)JsonValue.Create(s)),
        Gen.OneOf<string?>("1.0.0", "0.3.1", "0.4.0", "1.1.0", "9.9.9", "", "198.18.0.0/16", "bridge", "flannel", "../..", "/", "eth0")
            .Select(s => (JsonNode?)JsonValue.Create(s)),
        Gen.Const(0).Select(_ => (JsonNode?)new JsonArray()),
        Gen.Const(0).Select(_ => (JsonNode?)new JsonObject()),
        Gen.Const(0).Select(_ => (JsonNode?)new JsonObject { ["hairpinMode"] = true, ["type"] = "bridge" }));

    private static readonly string[] Fields =
        ["cniVersion", "name", "type", "subnetFile", "dataDir", "delegate", "ipam", "runtimeConfig", "prevResult", "args", "capabilities", "cniVersions", "plugins"];

    /// <summary>A valid conf with random fields dropped or replaced by random JSON, or plain garbage.</summary>
    private Gen<string> Stdin(string dataDir) => Gen.Frequency(
        (6, Gen.Select(Gen.Select(Gen.OneOf(Fields), Gen.Int[0, 2], AnyJsonValue).Array[0, 2], mutations =>
        {
            var conf = new JsonObject
            {
                ["cniVersion"] = "1.0.0", ["name"] = "cbr0", ["type"] = "flannel", ["subnetFile"] = _subnetFile, ["dataDir"] = dataDir,
                ["delegate"] = new JsonObject { ["hairpinMode"] = true },
            };
            foreach ((string field, int action, JsonNode? value) in mutations)
            {
                if (action == 0)
                {
                    conf.Remove(field);
                }
                else if (field != "dataDir")
                {
                    conf[field] = value?.DeepClone();
                }
            }

            return conf.ToJsonString();
        })),
        (1, Gen.String[0, 40]),
        (1, Gen.OneOf<string?>("", "{", "null", "[]", "{\"cniVersion\":", "{\"cniVersion\":\"1.0.0\"}", "\u0000", "{\"a\":1}{\"b\":2}", "\"x\"", "1e999")));

    /// <summary>Mostly the valid value, sometimes anything from the list: so whole invocations often get far.</summary>
    private static Gen<string?> Mostly(string valid, params string?[] others) => Gen.Frequency((3, Gen.Const<string?>(valid)), (1, Gen.OneOf(others)));

    private Gen<Dictionary<string, string>> Vars() => Gen.Select(
        Gen.Frequency((3, Gen.OneOf<string?>("ADD", "DEL")), (1, Gen.OneOf<string?>("CHECK", "GC", "STATUS", "VERSION", "add", "", "ATTACH", null))),
        Gen.Frequency((3, Gen.OneOf<string?>("c1", "c2", "a-b.c_d")), (1, Gen.OneOf<string?>("", "..", ".", "../x", "/abs", "x/y", new string('a', 300), null)), (1, Gen.String[0, 10].Select(s => (string?)s))),
        Mostly("/var/run/netns/fnt-none", "", "relative", null),
        Gen.Frequency((3, Gen.Const<string?>("eth0")), (1, Gen.OneOf<string?>("", "a/b", ".", "..", "toolongtoolongtoolong", "eth 0", null)), (1, Gen.String[0, 18].Select(s => (string?)s))),
        Mostly(_fakeBin, _emptyBin, "", "/nonexistent", _emptyBin + ":" + _fakeBin, null),
        Gen.Frequency((3, Gen.Const((string?)null)), (1, Gen.OneOf<string?>("IgnoreUnknown=1;K8S_POD_NAME=p", "a=b=c", ";;", "x"))),
        (command, id, netns, ifname, path, args) =>
        {
            var vars = new Dictionary<string, string>(StringComparer.Ordinal);
            void Set(string name, string? value)
            {
                if (value is not null)
                {
                    vars[name] = value;
                }
            }

            Set("CNI_COMMAND", command);
            Set("CNI_CONTAINERID", id);
            Set("CNI_NETNS", netns);
            Set("CNI_IFNAME", ifname);
            Set("CNI_PATH", path);
            Set("CNI_ARGS", args);
            return vars;
        });

    [Fact]
    public void Run_AnyStdinAndEnvironment_ValidResultOrErrorJson_NoPartialState()
    {
        Gen<(Dictionary<string, string> Vars, string Stdin, string DataDir)> input =
            Gen.Int[0, int.MaxValue].SelectMany(_ =>
            {
                string dataDir = Path.Combine(_root, "state-" + Interlocked.Increment(ref _run).ToString(System.Globalization.CultureInfo.InvariantCulture));
                return Gen.Select(Vars(), Stdin(dataDir), (vars, stdin) => (vars, stdin, dataDir));
            });

        int addsSucceeded = 0;
        int errors = 0;
        input.Sample(i =>
        {
            using var stdout = new MemoryStream();
            int exit = new Plugin(new CniArgs(i.Vars), () => Encoding.UTF8.GetBytes(i.Stdin), stdout, TextWriter.Null).Run();
            string output = Encoding.UTF8.GetString(stdout.ToArray());
            string command = i.Vars.GetValueOrDefault("CNI_COMMAND", "");

            if (exit == 0)
            {
                addsSucceeded += command == "ADD" ? 1 : 0;
                if (command is "ADD" or "VERSION" or "STATUS")
                {
                    if (command != "STATUS" || output.Length > 0)
                    {
                        var result = JsonNode.Parse(output) as JsonObject;
                        Assert.NotNull(result);
                        Assert.False(string.IsNullOrEmpty((string?)result["cniVersion"]), output);
                    }
                }
            }
            else
            {
                Assert.Equal(1, exit);
                errors++;
                var error = JsonNode.Parse(output) as JsonObject;
                Assert.NotNull(error);
                Assert.False(string.IsNullOrEmpty((string?)error["cniVersion"]), output);
                Assert.True(error["code"] is JsonValue code && code.TryGetValue(out int c) && c > 0, output);
                Assert.False(string.IsNullOrEmpty((string?)error["msg"]), output);
            }

            if (Directory.Exists(i.DataDir))
            {
                foreach (string file in Directory.EnumerateFiles(i.DataDir))
                {
                    Assert.False(file.EndsWith(".flannel-tmp", StringComparison.Ordinal), "temporary state file left: " + file);
                    try
                    {
                        Assert.True(JsonNode.Parse(File.ReadAllText(file)) is JsonObject, "state file is not a JSON object: " + file);
                    }
                    catch (JsonException ex)
                    {
                        Assert.Fail($"partial state file {file}: {ex.Message}");
                    }
                }

                if (exit != 0 && command == "ADD" && i.Vars.TryGetValue("CNI_CONTAINERID", out string? id) && id.Length > 0 && !id.Contains('/', StringComparison.Ordinal) && id is not "." and not "..")
                {
                    Assert.False(File.Exists(Path.Combine(i.DataDir, id)), $"failed ADD left a state file for {id}: {output}");
                }
            }
        }, iter: 1500, threads: 1);

        // The generators must reach both the success paths (state written) and the error paths.
        Assert.True(addsSucceeded > 10, $"only {addsSucceeded} ADDs succeeded");
        Assert.True(errors > 100, $"only {errors} errors");
    }
}
