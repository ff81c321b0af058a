using System.Text.Json;
using System.Text.Json.Nodes;

namespace Flannel.Cni;

/// <summary>
/// Converts a plugin result between spec versions, as libcni's <c>GetAsVersion</c> does: 1.x and 0.3.x/0.4.0 differ
/// by the per-ip <c>version</c>; 0.1.0/0.2.0 keep the first address of each family in <c>ip4</c>/<c>ip6</c>,
/// with the routes of that family.
/// </summary>
internal static class ResultConverter
{
    /// <summary>
    /// The result in <paramref name="targetVersion"/>. A result without <c>cniVersion</c> is taken to be in
    /// <paramref name="sourceVersion"/> (the version its plugin was configured with), as libcni does.
    /// </summary>
    public static byte[] Convert(byte[] result, string sourceVersion, string targetVersion)
    {
        ArgumentNullException.ThrowIfNull(result);
        JsonObject obj = ParseObject(result);
        string version = VersionOf(obj, sourceVersion);
        if (version == targetVersion)
        {
            return result;
        }

        return Serialize(ConvertObject(obj, version, targetVersion));
    }

    /// <summary>Converts a parsed result (e.g. a prevResult) from its own version to <paramref name="targetVersion"/>.</summary>
    public static JsonObject ConvertObject(JsonObject result, string sourceVersion, string targetVersion)
    {
        ArgumentNullException.ThrowIfNull(result);
        string version = VersionOf(result, sourceVersion);
        ResultShape from = CniVersion.ShapeOf(version);
        ResultShape to = CniVersion.ShapeOf(targetVersion);
        if (from == to)
        {
            var copy = (JsonObject)result.DeepClone();
            copy["cniVersion"] = targetVersion;
            return copy;
        }

        (JsonArray? interfaces, List<JsonObject> ips, JsonArray routes, JsonNode? dns) = from == ResultShape.Legacy
            ? FromLegacy(result)
            : FromInterfaces(result);
        return to == ResultShape.Legacy
            ? ToLegacy(targetVersion, ips, routes, dns)
            : ToInterfaces(targetVersion, to, interfaces, ips, routes, dns);
    }

    public static JsonObject ParseObject(byte[] result)
    {
        try
        {
            return JsonTree.Parse(result) as JsonObject
                ?? throw new CniException(CniErrorCode.DecodingFailure, "the delegate's result is not a JSON object");
        }
        catch (JsonException e)
        {
            throw new CniException(CniErrorCode.DecodingFailure, $"failed to decode the delegate's result: {e.Message}");
        }
    }

    public static byte[] Serialize(JsonObject obj)
    {
        ArgumentNullException.ThrowIfNull(obj);
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            obj.WriteTo(writer);
        }

        buffer.WriteByte((byte)'\n');
        return buffer.ToArray();
    }

    private static string VersionOf(JsonObject result, string fallback)
    {
        string version = JsonTree.StringOf(result["cniVersion"]) ?? "";
        version = version.Length == 0 ? fallback : version;
        return CniVersion.IsSupported(version)
            ? version
            : throw new CniException(CniErrorCode.IncompatibleVersion, $"unsupported result version \"{version}\"");
    }

    private static (JsonArray? Interfaces, List<JsonObject> Ips, JsonArray Routes, JsonNode? Dns) FromInterfaces(JsonObject result)
    {
        var ips = new List<JsonObject>();
        if (result["ips"] is JsonArray list)
        {
            foreach (JsonNode? ip in list)
            {
                if (ip is JsonObject o)
                {
                    ips.Add(o);
                }
            }
        }

        return (result["interfaces"] as JsonArray, ips, result["routes"] as JsonArray ?? [], result["dns"]);
    }

    private static (JsonArray? Interfaces, List<JsonObject> Ips, JsonArray Routes, JsonNode? Dns) FromLegacy(JsonObject result)
    {
        var ips = new List<JsonObject>();
        var routes = new JsonArray();
        foreach (string family in (string[])["ip4", "ip6"])
        {
            if (result[family] is not JsonObject config)
            {
                continue;
            }

            var ip = new JsonObject { ["address"] = config["ip"]?.DeepClone() };
            if (config["gateway"] is { } gateway)
            {
                ip["gateway"] = gateway.DeepClone();
            }

            ips.Add(ip);
            if (config["routes"] is JsonArray familyRoutes)
            {
                foreach (JsonNode? route in familyRoutes)
                {
                    routes.Add(route?.DeepClone());
                }
            }
        }

        return (null, ips, routes, result["dns"]);
    }

    private static JsonObject ToInterfaces(string version, ResultShape shape, JsonArray? interfaces, List<JsonObject> ips, JsonArray routes, JsonNode? dns)
    {
        var result = new JsonObject { ["cniVersion"] = version };
        if (interfaces is { Count: > 0 })
        {
            result["interfaces"] = interfaces.DeepClone();
        }

        if (ips.Count > 0)
        {
            var list = new JsonArray();
            foreach (JsonObject ip in ips)
            {
                var converted = new JsonObject();
                if (shape == ResultShape.Versioned)
                {
                    converted["version"] = IsV6(ip["address"]) ? "6" : "4";
                }

                foreach (string key in (string[])["interface", "address", "gateway"])
                {
                    if (ip[key] is { } value)
                    {
                        converted[key] = value.DeepClone();
                    }
                }

                list.Add((JsonNode)converted);
            }

            result["ips"] = list;
        }

        if (routes.Count > 0)
        {
            result["routes"] = routes.DeepClone();
        }

        result["dns"] = dns?.DeepClone() ?? new JsonObject();
        return result;
    }

    private static JsonObject ToLegacy(string version, List<JsonObject> ips, JsonArray routes, JsonNode? dns)
    {
        JsonObject? ip4 = null;
        JsonObject? ip6 = null;
        foreach (JsonObject ip in ips)
        {
            bool v6 = IsV6(ip["address"]);
            if ((v6 ? ip6 : ip4) is not null)
            {
                continue;
            }

            var config = new JsonObject { ["ip"] = ip["address"]?.DeepClone() };
            if (ip["gateway"] is { } gateway)
            {
                config["gateway"] = gateway.DeepClone();
            }

            if (v6)
            {
                ip6 = config;
            }
            else
            {
                ip4 = config;
            }
        }

        if (ip4 is null && ip6 is null)
        {
            throw new CniException(CniErrorCode.IncompatibleVersion, $"cannot convert the result to {version}: no valid IP addresses");
        }

        foreach (JsonNode? route in routes)
        {
            JsonObject? target = IsV6(route?["dst"]) ? ip6 : ip4;
            if (target is not null)
            {
                if (target["routes"] is not JsonArray list)
                {
                    list = [];
                    target["routes"] = list;
                }

                list.Add(route?.DeepClone());
            }
        }

        var result = new JsonObject { ["cniVersion"] = version };
        if (ip4 is not null)
        {
            result["ip4"] = ip4;
        }

        if (ip6 is not null)
        {
            result["ip6"] = ip6;
        }

        result["dns"] = dns?.DeepClone() ?? new JsonObject();
        return result;
    }

    private static bool IsV6(JsonNode? address) =>
        JsonTree.StringOf(address)?.Contains(':', StringComparison.Ordinal) == true;
}
