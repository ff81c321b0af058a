using System.Text.Json;
using System.Text.Json.Nodes;
using Flannel.Core.Config;

namespace Flannel.Cni.Commands;

/// <summary>
/// CHECK (upstream: a no-op): the container's state exists, its subnet is still the node's, and the delegate's
/// CHECK passes against the <c>prevResult</c>.
/// </summary>
internal static class CheckCommand
{
    public static void Run(Invocation invocation)
    {
        invocation.Args.Require("CNI_CONTAINERID", "CNI_NETNS", "CNI_IFNAME", "CNI_PATH");
        ContainerId.Validate(invocation.Args.ContainerId);
        invocation.Args.ValidateIfName();
        NetConf conf = invocation.ReadConf();
        Invocation.RequireVersion(conf, "0.4.0", "CHECK");
        var store = new StateStore(conf.DataDir);
        byte[] saved = store.Read(invocation.Args.ContainerId)
            ?? throw new CniException(CniErrorCode.UnknownContainer, $"flannel has no state for container {invocation.Args.ContainerId}",
                $"{store.PathOf(invocation.Args.ContainerId)} does not exist: the container was never added, or was deleted");
        JsonObject prevResult = conf.PrevResult
            ?? throw new CniException(CniErrorCode.InvalidNetworkConfig, "required prevResult missing", "CHECK needs the result of the ADD in prevResult");

        JsonObject delegateConf;
        try
        {
            delegateConf = JsonNode.Parse(saved) as JsonObject ?? throw new JsonException("not an object");
        }
        catch (JsonException e)
        {
            throw new CniException(CniErrorCode.DecodingFailure, $"failed to parse {store.PathOf(invocation.Args.ContainerId)}: {e.Message}");
        }

        SubnetEnv env = PluginSubnetEnv.Load(conf.SubnetFile);
        CheckSubnetUnchanged(delegateConf, env);

        string delegateVersion = JsonTree.StringOf(delegateConf["cniVersion"]) ?? CniVersion.Implicit;
        string type = JsonTree.StringOf(delegateConf["type"]) ?? DelegateConfig.DefaultType;
        DelegatePlugin plugin = DelegatePlugin.Find(type, invocation.Args.Path);
        if (!CniVersion.IsSupported(delegateVersion) || !CniVersion.AtLeast(delegateVersion, "0.4.0"))
        {
            // The delegate was configured with a version without CHECK; the state and subnet checks are all there is.
            return;
        }

        JsonObject expected = ResultConverter.ConvertObject(prevResult, conf.Version, delegateVersion);
        InstalledRoutes.FillGateways(expected);
        delegateConf["prevResult"] = expected;
        plugin.Invoke("CHECK", GoJson.Serialize(delegateConf), invocation.Args);
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
                        if (JsonTree.StringOf(entry?["subnet"]) is { } subnet)
                        {
                            saved.Add(subnet);
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
}
