using System.Text.Json;
using System.Text.Json.Nodes;
using Flannel.Core.Config;

namespace Flannel.Cni.Commands;

/// <summary>
/// GC (CNI 1.1): remove the state of containers not in <c>cni.dev/valid-attachments</c>, then pass GC on to a
/// delegate that speaks 1.1.
/// </summary>
internal static class GcCommand
{
    public static void Run(Invocation invocation)
    {
        invocation.Args.Require("CNI_PATH");
        NetConf conf = invocation.ReadConf();
        Invocation.RequireVersion(conf, "1.1.0", "GC");
        var valid = new HashSet<string>(conf.ValidAttachmentContainerIds(), StringComparer.Ordinal);
        var store = new StateStore(conf.DataDir);
        foreach (string id in store.ContainerIds())
        {
            if (!valid.Contains(id) && BelongsTo(store, id, conf.Name))
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
            invocation.Stderr.WriteLine($"flannel: GC not passed to the delegate: {e.Message}");
            return;
        }

        Dictionary<string, object?> map = DelegateConfig.Build(conf, env);
        map["cni.dev/valid-attachments"] = conf.Root["cni.dev/valid-attachments"] ?? new JsonArray();
        DelegatePlugin plugin = DelegatePlugin.Find(DelegateConfig.TypeOf(map), invocation.Args.Path);
        if (!plugin.SupportedVersions(conf.Version, invocation.Args, invocation.Stderr).Contains(conf.Version))
        {
            // A delegate older than spec 1.1 knows no GC (bridge 1.1 answers it with a bogus "missing containerID").
            invocation.Stderr.WriteLine($"flannel: delegate {plugin.Type} does not speak CNI {conf.Version}; GC not passed on");
            return;
        }

        plugin.Invoke("GC", GoJson.Serialize(map), invocation.Args);
    }

    /// <summary>
    /// State files are keyed by container only (as upstream's), so two flannel networks sharing a dataDir share the
    /// directory: GC for one network must leave the other's files alone. The saved configuration names its network.
    /// </summary>
    private static bool BelongsTo(StateStore store, string containerId, string network)
    {
        try
        {
            return store.Read(containerId) is { } saved
                && JsonNode.Parse(saved) is JsonObject conf
                && JsonTree.StringOf(conf["name"]) == network;
        }
        catch (JsonException)
        {
            // Unreadable for DEL too; it belongs to whichever network GCs first.
            return true;
        }
    }
}
