using System.Text.Json;
using System.Text.Json.Nodes;
using Flannel.Core.Config;
using Flannel.Core.Net;

namespace Flannel.Cni;

/// <summary>
/// Renders the delegate's network configuration from the flannel netconf and subnet.env exactly as upstream's
/// <c>doCmdAdd</c>/<c>getDelegateIPAM</c> do, serialized as Go marshals it (keys sorted).
/// </summary>
internal static class DelegateConfig
{
    public const string DefaultType = "bridge";

    /// <summary>Checks the <c>delegate</c> dictionary as upstream's cmdAdd does.</summary>
    public static void Validate(JsonObject? @delegate)
    {
        if (@delegate is null)
        {
            return;
        }

        if (@delegate.TryGetPropertyValue("type", out JsonNode? type) && !IsString(type))
        {
            throw new CniException(CniErrorCode.InvalidNetworkConfig,
                $"'delegate' dictionary, if present, must have (string) 'type' field, not {NetConf.Describe(type)}");
        }

        if (@delegate.ContainsKey("name"))
        {
            throw new CniException(CniErrorCode.UnsupportedField,
                "'delegate' dictionary must not have 'name' field, it'll be set by flannel", $"name={NetConf.Describe(@delegate["name"])}");
        }

        if (@delegate.ContainsKey("ipam"))
        {
            throw new CniException(CniErrorCode.UnsupportedField,
                "'delegate' dictionary must not have 'ipam' field, it'll be set by flannel", $"ipam={NetConf.Describe(@delegate["ipam"])}");
        }
    }

    /// <summary>
    /// The delegate configuration as a Go-style map. <paramref name="delegateVersion"/> replaces the netconf's
    /// <c>cniVersion</c> when the delegate cannot speak the requested one (null: as upstream).
    /// </summary>
    public static Dictionary<string, object?> Build(NetConf conf, SubnetEnv env, string? delegateVersion = null)
    {
        ArgumentNullException.ThrowIfNull(conf);
        ArgumentNullException.ThrowIfNull(env);
        JsonObject? input = conf.Delegate;
        Validate(input);

        var map = new Dictionary<string, object?>(StringComparer.Ordinal);
        if (input is not null)
        {
            foreach (KeyValuePair<string, JsonNode?> property in input)
            {
                map[property.Key] = property.Value;
            }
        }

        if (conf.RuntimeConfig is { } runtimeConfig)
        {
            map["runtimeConfig"] = runtimeConfig;
        }

        map["name"] = conf.Name;
        map.TryAdd("type", DefaultType);
        map.TryAdd("ipMasq", !(env.IpMasq ?? false));
        map.TryAdd("mtu", env.Mtu ?? 0);
        if (TypeOf(map) == DefaultType)
        {
            map.TryAdd("isGateway", true);
        }

        if (delegateVersion is not null)
        {
            map["cniVersion"] = delegateVersion;
        }
        else if (conf.HasVersion)
        {
            map["cniVersion"] = conf.Version;
        }

        map["ipam"] = BuildIpam(conf.Ipam, env);
        return map;
    }

    public static byte[] Render(NetConf conf, SubnetEnv env, string? delegateVersion = null) =>
        GoJson.Serialize(Build(conf, env, delegateVersion));

    /// <summary>The delegate plugin's type (its executable's name).</summary>
    public static string TypeOf(IReadOnlyDictionary<string, object?> map)
    {
        ArgumentNullException.ThrowIfNull(map);
        return map["type"] switch
        {
            string s => s,
            JsonValue v when JsonTree.StringOf(v) is { } s => s,
            _ => DefaultType,
        };
    }

    private static Dictionary<string, object?> BuildIpam(JsonObject? input, SubnetEnv env)
    {
        var ipam = new Dictionary<string, object?>(StringComparer.Ordinal);
        var routes = new List<IpamRoute>();
        if (input is not null)
        {
            foreach (KeyValuePair<string, JsonNode?> property in input)
            {
                ipam[property.Key] = property.Value;
            }

            if (input["routes"] is { } inputRoutes)
            {
                if (inputRoutes is not JsonArray list)
                {
                    throw new CniException(CniErrorCode.InvalidNetworkConfig,
                        $"failed to assemble Delegate IPAM: failed to read IPAM routes: ipam.routes must be a list, not {NetConf.Describe(inputRoutes)}");
                }

                for (int i = 0; i < list.Count; i++)
                {
                    routes.Add(IpamRoute.Parse(list[i], i));
                }
            }
        }

        ipam.TryAdd("type", "host-local");

        var ranges = new List<object?>();
        if (env.Subnet is { } subnet)
        {
            ranges.Add(new object?[] { Range(subnet.Canonical.ToString()) });
        }

        if (env.IPv6Subnet is { } subnet6)
        {
            ranges.Add(new object?[] { Range(subnet6.Canonical.ToString()) });
        }

        ipam["ranges"] = ranges;

        foreach (Ip4Net network in env.Networks)
        {
            routes.Add(IpamRoute.To(network));
        }

        foreach (Ip6Net network in env.IPv6Networks)
        {
            routes.Add(IpamRoute.To(network));
        }

        ipam["routes"] = routes;
        return ipam;
    }

    private static Dictionary<string, object?> Range(string subnet) =>
        new(StringComparer.Ordinal) { ["subnet"] = subnet };

    private static bool IsString(JsonNode? node) => node is JsonValue v && v.GetValueKind() == JsonValueKind.String;
}
