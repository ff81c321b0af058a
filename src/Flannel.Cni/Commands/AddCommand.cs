using System.Text.Json;
using System.Text.Json.Nodes;
using Flannel.Core.Config;

namespace Flannel.Cni.Commands;

/// <summary>
/// ADD: render the delegate configuration from the netconf and subnet.env, save it, run the delegate's ADD and
/// return its result in the requested version. A failed ADD leaves neither state nor (as far as the delegate's DEL
/// can release them) resources behind.
/// </summary>
internal static class AddCommand
{
    public static void Run(Invocation invocation)
    {
        invocation.Args.Require("CNI_CONTAINERID", "CNI_NETNS", "CNI_IFNAME", "CNI_PATH");
        ContainerId.Validate(invocation.Args.ContainerId);
        invocation.Args.ValidateIfName();
        NetConf conf = invocation.ReadConf();
        DelegateConfig.Validate(conf.Delegate);
        var store = new StateStore(conf.DataDir);
        store.PathOf(invocation.Args.ContainerId);
        SubnetEnv env = PluginSubnetEnv.Load(conf.SubnetFile);

        Dictionary<string, object?> map = DelegateConfig.Build(conf, env);
        DelegatePlugin plugin = DelegatePlugin.Find(DelegateConfig.TypeOf(map), invocation.Args.Path);
        byte[] config = GoJson.Serialize(map);
        PendingSync saved = store.Save(invocation.Args.ContainerId, config);
        byte[] output;
        try
        {
            try
            {
                output = plugin.Invoke("ADD", config, invocation.Args, saved.Complete);
            }
            catch (CniException e) when (e.Code == CniErrorCode.IncompatibleVersion && plugin.LowerCommonVersion(conf.Version, invocation.Args, invocation.Stderr) is { } lower)
            {
                // A delegate older than the runtime (bridge 1.1 stops at spec 1.0.0): speak its highest version and
                // convert its result up, rather than fail every pod.
                map = DelegateConfig.Build(conf, env, lower);
                config = GoJson.Serialize(map);
                saved.Dispose();
                saved = store.Save(invocation.Args.ContainerId, config);
                output = plugin.Invoke("ADD", config, invocation.Args, saved.Complete);
            }

            // The state must be on disk before the runtime learns of a pod it will later DEL (done by now: the
            // fsync ran while the delegate worked).
            saved.Complete();
        }
        catch (CniException e)
        {
            if (e.Code != CniErrorCode.IncompatibleVersion)
            {
                UndoAdd(invocation, plugin, config);
            }

            saved.Dispose();
            store.Remove(invocation.Args.ContainerId);
            throw;
        }

        string delegateVersion = map.TryGetValue("cniVersion", out object? v) && v is string s ? s
            : JsonTree.StringOf(v as JsonNode) ?? CniVersion.Implicit;
        invocation.Stdout.Write(ResultConverter.Convert(output, delegateVersion, conf.Version));
    }

    /// <summary>A failed ADD may have left a veth or an address reservation; DEL releases what there is.</summary>
    private static void UndoAdd(Invocation invocation, DelegatePlugin plugin, byte[] config)
    {
        try
        {
            plugin.Invoke("DEL", config, invocation.Args);
        }
        catch (CniException e)
        {
            invocation.Stderr.WriteLine($"flannel: cleaning up after the failed ADD of {invocation.Args.ContainerId}: delegate DEL failed: {e.Message}");
        }
    }
}
