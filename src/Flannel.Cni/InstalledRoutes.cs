using System.Text.Json;
using System.Text.Json.Nodes;

namespace Flannel.Cni;

/// <summary>
/// Makes a result's routes say what the kernel got. IPAM results list cluster routes without a gateway
/// (<c>{"dst":"198.18.0.0/16"}</c>) and the bridge installs them via the gateway of their family's address; the
/// bridge's own CHECK (plugins 1.1) then compares the gateway-less route with the installed one and always fails.
/// Filling in the gateway the route was installed with lets the delegate's CHECK test the real state.
/// </summary>
internal static class InstalledRoutes
{
    public static void FillGateways(JsonObject result)
    {
        ArgumentNullException.ThrowIfNull(result);
        string? gateway4 = null;
        string? gateway6 = null;
        if (result["ips"] is JsonArray ips)
        {
            foreach (JsonNode? ip in ips)
            {
                if (Text(ip?["gateway"]) is not { } gateway)
                {
                    continue;
                }

                if (gateway.Contains(':', StringComparison.Ordinal))
                {
                    gateway6 ??= gateway;
                }
                else
                {
                    gateway4 ??= gateway;
                }
            }
        }

        if (result["routes"] is not JsonArray routes)
        {
            return;
        }

        foreach (JsonNode? node in routes)
        {
            if (node is JsonObject route && route["gw"] is null && Text(route["dst"]) is { } dst
                && (dst.Contains(':', StringComparison.Ordinal) ? gateway6 : gateway4) is { } gw)
            {
                route["gw"] = gw;
            }
        }
    }

    private static string? Text(JsonNode? node) =>
        JsonTree.StringOf(node);
}
