using System.Text.Json;
using System.Text.Json.Nodes;

namespace Flannel.Cni.Commands;

/// <summary>
/// DEL: hand the configuration saved at ADD to the delegate's DEL; the state goes only when that succeeded.
/// Needs no subnet.env, and succeeds when there is nothing to delete.
/// </summary>
internal static class DelCommand
{
    public static void Run(Invocation invocation)
    {
        invocation.Args.Require("CNI_CONTAINERID", "CNI_IFNAME", "CNI_PATH");
        ContainerId.Validate(invocation.Args.ContainerId);
        invocation.Args.ValidateIfName();
        NetConf conf = invocation.ReadConf();
        var store = new StateStore(conf.DataDir);
        byte[]? saved = store.Read(invocation.Args.ContainerId);
        if (saved is null)
        {
            // Never added, or already deleted: DEL is idempotent.
            return;
        }

        string type;
        try
        {
            type = (JsonTree.Parse(saved) is JsonObject obj ? JsonTree.StringOf(obj["type"]) : null)
                ?? throw new JsonException("no string 'type'");
        }
        catch (JsonException e)
        {
            // As upstream: nothing can be delegated from a damaged file; the interface goes with the node's reboot.
            invocation.Stderr.WriteLine($"flannel: failed to parse {store.PathOf(invocation.Args.ContainerId)}: {e.Message}; removing it");
            store.Remove(invocation.Args.ContainerId);
            return;
        }

        // Earlier DELs' state is unlinked while this delegate works, and ours is only set aside after it: see Discard.
        DelegatePlugin.Find(type, invocation.Args.Path).Invoke("DEL", saved, invocation.Args, store.PurgeDiscarded);
        store.Discard(invocation.Args.ContainerId);
    }
}
