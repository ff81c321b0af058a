using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Flannel.Core.Net;

namespace Flannel.Cni;

/// <summary>
/// One entry of the delegate's <c>ipam.routes</c>, marshalled in the field order of libcni's <c>types.Route</c>
/// struct (dst, gw, mtu, advmss, priority, table, scope; empty ones left out), as upstream writes it.
/// </summary>
internal sealed record IpamRoute(string Dst, string? Gw = null, int Mtu = 0, int AdvMss = 0, int Priority = 0, int? Table = null, int? Scope = null)
{
    public static IpamRoute To(Ip4Net network) => new(network.ToString());

    public static IpamRoute To(Ip6Net network) => new(network.ToString());

    /// <summary>Reads a route of the input <c>ipam.routes</c> as libcni does: dst a CIDR (made canonical), gw an IP.</summary>
    public static IpamRoute Parse(JsonNode? node, int index)
    {
        string where = $"ipam.routes[{index.ToString(CultureInfo.InvariantCulture)}]";
        if (node is not JsonObject route)
        {
            throw Invalid($"{where} must be an object, not {Describe(node)}");
        }

        string dst = JsonTree.StringOf(route["dst"]) ?? "";
        string canonical = Ip4Net.TryParse(dst, out Ip4Net v4) ? v4.Canonical.ToString()
            : Ip6Net.TryParse(dst, out Ip6Net v6) ? v6.Canonical.ToString()
            : throw Invalid($"{where}.dst must be a CIDR, not {Describe(route["dst"])}");

        string? gw = null;
        if (route["gw"] is { } gwNode)
        {
            gw = JsonTree.StringOf(gwNode) is { } g && IPAddress.TryParse(g, out IPAddress? address)
                ? address.ToString()
                : throw Invalid($"{where}.gw must be an IP address, not {Describe(gwNode)}");
        }

        return new IpamRoute(
            canonical,
            gw,
            Int(route, "mtu", where) ?? 0,
            Int(route, "advmss", where) ?? 0,
            Int(route, "priority", where) ?? 0,
            Int(route, "table", where),
            Int(route, "scope", where));
    }

    public void WriteTo(StringBuilder text)
    {
        text.Append("{\"dst\":");
        GoJson.WriteString(text, Dst);
        if (Gw is not null)
        {
            text.Append(",\"gw\":");
            GoJson.WriteString(text, Gw);
        }

        Append(text, "mtu", Mtu == 0 ? null : Mtu);
        Append(text, "advmss", AdvMss == 0 ? null : AdvMss);
        Append(text, "priority", Priority == 0 ? null : Priority);
        Append(text, "table", Table);
        Append(text, "scope", Scope);
        text.Append('}');
    }

    internal static string Describe(JsonNode? node) => node is null ? "null" : node.ToJsonString();

    private static void Append(StringBuilder text, string name, int? value)
    {
        if (value is { } v)
        {
            text.Append(",\"").Append(name).Append("\":").Append(v.ToString(CultureInfo.InvariantCulture));
        }
    }

    private static int? Int(JsonObject route, string name, string where)
    {
        if (route[name] is not { } node)
        {
            return null;
        }

        return node is JsonValue v && v.GetValueKind() == JsonValueKind.Number && v.TryGetValue(out JsonElement e) && e.TryGetInt32(out int i)
            ? i
            : throw Invalid($"{where}.{name} must be an integer, not {Describe(node)}");
    }

    private static CniException Invalid(string message) =>
        new(CniErrorCode.InvalidNetworkConfig, $"failed to assemble Delegate IPAM: failed to read IPAM routes: {message}");
}
