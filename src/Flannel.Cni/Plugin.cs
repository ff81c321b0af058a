using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Flannel.Core.Config;

namespace Flannel.Cni;

/// <summary>
/// The flannel CNI plugin: one invocation, one command. Everything the runtime gets back is on stdout (a result,
/// an error object, or nothing); the exit code is 0 exactly when the command succeeded.
/// </summary>
internal sealed class Plugin
{
    private readonly CniArgs _args;
    private readonly Func<byte[]> _stdin;
    private readonly Stream _stdout;
    private readonly TextWriter _stderr;
    private string _errorVersion = CniVersion.Latest;

    public Plugin(CniArgs args, Func<byte[]> stdin, Stream stdout, TextWriter stderr)
    {
        _args = args;
        _stdin = stdin;
        _stdout = stdout;
        _stderr = stderr;
    }

    public int Run()
    {
        try
        {
            _args.Require("CNI_COMMAND");
            switch (_args.Command)
            {
                case "ADD": Add(); break;
                case "DEL": Del(); break;
                case "CHECK": Check(); break;
                case "GC": Gc(); break;
                case "STATUS": Status(); break;
                case "VERSION": Version(); break;
                default:
                    throw new CniException(CniErrorCode.InvalidEnvironmentVariables, $"unknown CNI_COMMAND: {_args.Command}",
                        "expected ADD, DEL, CHECK, GC, STATUS or VERSION");
            }

            return 0;
        }
        catch (CniException e)
        {
            _stdout.Write(CniError.Format(_errorVersion, e));
            return 1;
        }
    }

    private void Add()
    {
        _args.Require("CNI_CONTAINERID", "CNI_NETNS", "CNI_IFNAME", "CNI_PATH");
        ContainerId.Validate(_args.ContainerId);
        _args.ValidateIfName();
        NetConf conf = ReadConf();
        DelegateConfig.Validate(conf.Delegate);
        var store = new StateStore(conf.DataDir);
        store.PathOf(_args.ContainerId);
        SubnetEnv env = PluginSubnetEnv.Load(conf.SubnetFile);

        Dictionary<string, object?> map = DelegateConfig.Build(conf, env);
        DelegatePlugin plugin = DelegatePlugin.Find(DelegateConfig.TypeOf(map), _args.Path);
        byte[] config = GoJson.Serialize(map);
        PendingSync saved = store.Save(_args.ContainerId, config);
        byte[] output;
        try
        {
            try
            {
                output = plugin.Invoke("ADD", config, _args);
            }
            catch (CniException e) when (e.Code == CniErrorCode.IncompatibleVersion && LowerCommonVersion(plugin, conf.Version) is { } lower)
            {
                // A delegate older than the runtime (bridge 1.1 stops at spec 1.0.0): speak its highest version and
                // convert its result up, rather than fail every pod.
                map = DelegateConfig.Build(conf, env, lower);
                config = GoJson.Serialize(map);
                saved.Wait();
                saved = store.Save(_args.ContainerId, config);
                output = plugin.Invoke("ADD", config, _args);
            }

            // The state must be on disk before the runtime learns of a pod it will later DEL.
            saved.Wait();
        }
        catch (CniException e)
        {
            if (e.Code != CniErrorCode.IncompatibleVersion)
            {
                UndoAdd(plugin, config);
            }

            WaitQuietly(saved);
            store.Remove(_args.ContainerId);
            throw;
        }

        string delegateVersion = map.TryGetValue("cniVersion", out object? v) && v is string s ? s
            : v is JsonValue jv && jv.GetValueKind() == JsonValueKind.String ? jv.GetValue<string>() : CniVersion.Implicit;
        _stdout.Write(ResultConverter.Convert(output, delegateVersion, conf.Version));
    }

    private static void WaitQuietly(PendingSync sync)
    {
        try
        {
            sync.Wait();
        }
        catch (CniException)
        {
            // The file is being removed anyway.
        }
    }

    /// <summary>A failed ADD may have left a veth or an address reservation; DEL releases what there is.</summary>
    private void UndoAdd(DelegatePlugin plugin, byte[] config)
    {
        try
        {
            plugin.Invoke("DEL", config, _args);
        }
        catch (CniException e)
        {
            _stderr.WriteLine($"flannel: cleaning up after the failed ADD of {_args.ContainerId}: delegate DEL failed: {e.Message}");
        }
    }

    private void Del()
    {
        _args.Require("CNI_CONTAINERID", "CNI_IFNAME", "CNI_PATH");
        ContainerId.Validate(_args.ContainerId);
        _args.ValidateIfName();
        NetConf conf = ReadConf();
        var store = new StateStore(conf.DataDir);
        byte[]? saved = store.Read(_args.ContainerId);
        if (saved is null)
        {
            // Never added, or already deleted: DEL is idempotent.
            return;
        }

        string type;
        try
        {
            type = JsonNode.Parse(saved) is JsonObject obj && obj["type"] is JsonValue t && t.GetValueKind() == JsonValueKind.String
                ? t.GetValue<string>()
                : throw new JsonException("no string 'type'");
        }
        catch (JsonException e)
        {
            // As upstream: nothing can be delegated from a damaged file; the interface goes with the node's reboot.
            _stderr.WriteLine($"flannel: failed to parse {store.PathOf(_args.ContainerId)}: {e.Message}; removing it");
            store.Remove(_args.ContainerId);
            return;
        }

        DelegatePlugin.Find(type, _args.Path).Invoke("DEL", saved, _args);
        store.Remove(_args.ContainerId);
    }

    private void Check()
    {
        _args.Require("CNI_CONTAINERID", "CNI_NETNS", "CNI_IFNAME", "CNI_PATH");
        ContainerId.Validate(_args.ContainerId);
        _args.ValidateIfName();
        NetConf conf = ReadConf();
        RequireVersion(conf, "0.4.0", "CHECK");
        var store = new StateStore(conf.DataDir);
        byte[] saved = store.Read(_args.ContainerId)
            ?? throw new CniException(CniErrorCode.UnknownContainer, $"flannel has no state for container {_args.ContainerId}",
                $"{store.PathOf(_args.ContainerId)} does not exist: the container was never added, or was deleted");
        JsonObject prevResult = conf.PrevResult
            ?? throw new CniException(CniErrorCode.InvalidNetworkConfig, "required prevResult missing", "CHECK needs the result of the ADD in prevResult");

        JsonObject delegateConf;
        try
        {
            delegateConf = JsonNode.Parse(saved) as JsonObject ?? throw new JsonException("not an object");
        }
        catch (JsonException e)
        {
            throw new CniException(CniErrorCode.DecodingFailure, $"failed to parse {store.PathOf(_args.ContainerId)}: {e.Message}");
        }

        SubnetEnv env = PluginSubnetEnv.Load(conf.SubnetFile);
        CheckSubnetUnchanged(delegateConf, env);

        string delegateVersion = delegateConf["cniVersion"] is JsonValue dv && dv.GetValueKind() == JsonValueKind.String
            ? dv.GetValue<string>() : CniVersion.Implicit;
        string type = delegateConf["type"] is JsonValue t && t.GetValueKind() == JsonValueKind.String ? t.GetValue<string>() : DelegateConfig.DefaultType;
        DelegatePlugin plugin = DelegatePlugin.Find(type, _args.Path);
        if (!CniVersion.IsSupported(delegateVersion) || !CniVersion.AtLeast(delegateVersion, "0.4.0"))
        {
            // The delegate was configured with a version without CHECK; the state and subnet checks are all there is.
            return;
        }

        JsonObject expected = ResultConverter.ConvertObject(prevResult, conf.Version, delegateVersion);
        InstalledRoutes.FillGateways(expected);
        delegateConf["prevResult"] = expected;
        plugin.Invoke("CHECK", GoJson.Serialize(delegateConf), _args);
    }

    /// <summary>Pods keep the addresses of the subnet they were added in; if flanneld's lease moved, they are cut off.</summary>
    private static void CheckSubnetUnchanged(JsonObject delegateConf, SubnetEnv env)
    {
        var expected = new List<string>();
        if (env.Subnet is { } v4)
        {
            expected.Add(v4.Canonical.ToString());
        }

        if (env.IPv6Subnet is { } v6)
        {
            expected.Add(v6.Canonical.ToString());
        }

        var saved = new List<string>();
        if (delegateConf["ipam"]?["ranges"] is JsonArray ranges)
        {
            foreach (JsonNode? set in ranges)
            {
                if (set is JsonArray entries)
                {
                    foreach (JsonNode? entry in entries)
                    {
                        if (entry?["subnet"] is JsonValue subnet && subnet.GetValueKind() == JsonValueKind.String)
                        {
                            saved.Add(subnet.GetValue<string>());
                        }
                    }
                }
            }
        }

        foreach (string subnet in saved)
        {
            if (!expected.Contains(subnet))
            {
                throw new CniException(CniErrorCode.InvalidNetworkConfig,
                    $"the container's subnet {subnet} is no longer this node's flannel subnet ({string.Join(", ", expected)})",
                    "flanneld took a different lease; pods added before must be recreated");
            }
        }
    }

    private void Gc()
    {
        _args.Require("CNI_PATH");
        NetConf conf = ReadConf();
        RequireVersion(conf, "1.1.0", "GC");
        var valid = new HashSet<string>(conf.ValidAttachmentContainerIds(), StringComparer.Ordinal);
        var store = new StateStore(conf.DataDir);
        foreach (string id in store.ContainerIds())
        {
            if (!valid.Contains(id))
            {
                store.Remove(id);
            }
        }

        SubnetEnv env;
        try
        {
            env = PluginSubnetEnv.Load(conf.SubnetFile);
        }
        catch (CniException e)
        {
            // Without subnet.env there is no delegate configuration to hand GC to; our own state is clean.
            _stderr.WriteLine($"flannel: GC not passed to the delegate: {e.Message}");
            return;
        }

        Dictionary<string, object?> map = DelegateConfig.Build(conf, env);
        map["cni.dev/valid-attachments"] = conf.Root["cni.dev/valid-attachments"] ?? new JsonArray();
        DelegatePlugin plugin = DelegatePlugin.Find(DelegateConfig.TypeOf(map), _args.Path);
        if (!SupportedVersions(plugin, conf.Version).Contains(conf.Version))
        {
            // A delegate older than spec 1.1 knows no GC (bridge 1.1 answers it with a bogus "missing containerID").
            _stderr.WriteLine($"flannel: delegate {plugin.Type} does not speak CNI {conf.Version}; GC not passed on");
            return;
        }

        plugin.Invoke("GC", GoJson.Serialize(map), _args);
    }

    private void Status()
    {
        NetConf conf = ReadConf();
        RequireVersion(conf, "1.1.0", "STATUS");
        try
        {
            PluginSubnetEnv.Load(conf.SubnetFile);
        }
        catch (CniException e)
        {
            throw new CniException(CniErrorCode.PluginNotAvailable, e.Message, e.Details);
        }
    }

    private void Version()
    {
        var text = new StringBuilder("{\"cniVersion\":\"").Append(CniVersion.Latest).Append("\",\"supportedVersions\":[");
        for (int i = 0; i < CniVersion.Supported.Length; i++)
        {
            text.Append(i == 0 ? "\"" : ",\"").Append(CniVersion.Supported[i]).Append('"');
        }

        text.Append("]}\n");
        _stdout.Write(Encoding.UTF8.GetBytes(text.ToString()));
    }

    private NetConf ReadConf()
    {
        NetConf conf = NetConf.Parse(_stdin());
        if (!CniVersion.IsSupported(conf.Version))
        {
            throw new CniException(CniErrorCode.IncompatibleVersion, "incompatible CNI versions",
                $"config is \"{conf.Version}\", plugin supports [{string.Join(' ', CniVersion.Supported)}]");
        }

        _errorVersion = conf.Version;
        return conf;
    }

    private static void RequireVersion(NetConf conf, string minimum, string command)
    {
        if (!CniVersion.AtLeast(conf.Version, minimum))
        {
            throw new CniException(CniErrorCode.IncompatibleVersion, $"config version does not allow {command}",
                $"config is \"{conf.Version}\", {command} needs {minimum} or later");
        }
    }

    /// <summary>The highest version below <paramref name="requested"/> that both we and the delegate speak.</summary>
    private string? LowerCommonVersion(DelegatePlugin plugin, string requested)
    {
        string? best = null;
        foreach (string version in SupportedVersions(plugin, requested))
        {
            if (CniVersion.IsSupported(version) && CniVersion.Compare(version, requested) < 0
                && (best is null || CniVersion.Compare(version, best) > 0))
            {
                best = version;
            }
        }

        return best;
    }

    /// <summary>The delegate's VERSION answer; empty when it gives none.</summary>
    private List<string> SupportedVersions(DelegatePlugin plugin, string requested)
    {
        var versions = new List<string>();
        try
        {
            byte[] answer = plugin.Invoke("VERSION", Encoding.UTF8.GetBytes($"{{\"cniVersion\":\"{requested}\"}}"), _args);
            if (JsonNode.Parse(answer)?["supportedVersions"] is JsonArray list)
            {
                foreach (JsonNode? node in list)
                {
                    if (node is JsonValue value && value.GetValueKind() == JsonValueKind.String)
                    {
                        versions.Add(value.GetValue<string>());
                    }
                }
            }
        }
        catch (Exception e) when (e is CniException or JsonException)
        {
            _stderr.WriteLine($"flannel: delegate {plugin.Type} VERSION failed: {e.Message}");
        }

        return versions;
    }
}
