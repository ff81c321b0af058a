using System.Globalization;
using System.Text.Json;
using Flannel.Core.Net;

namespace Flannel.Core.Config;

/// <summary>
/// Parses and validates net-conf.json as upstream does (<c>pkg/subnet/config.go</c>): <see cref="Decode"/> is
/// upstream's <c>ParseConfig</c> (all that Kubernetes mode does), <see cref="Check"/> is its <c>CheckNetworkConfig</c>
/// (etcd mode: applies the defaults and checks coherence), <see cref="Parse"/> is both.
/// Every error is a <see cref="ConfigException"/> whose message names the key and the value.
/// </summary>
public static class NetConfigParser
{
    public const string Context = "net-conf";

    /// <summary>The backend types Flannel.NET runs.</summary>
    public static readonly IReadOnlyList<string> SupportedBackendTypes = ["vxlan", "host-gw", "udp", "alloc"];

    private static readonly string[] UpstreamOnlyBackendTypes = ["ipip", "wireguard", "ipsec", "extension", "tencent-vpc"];

    private static readonly string[] Keys =
    [
        "Network", "SubnetLen", "SubnetMin", "SubnetMax", "EnableIPv4", "EnableIPv6", "IPv6Network", "IPv6SubnetLen",
        "IPv6SubnetMin", "IPv6SubnetMax", "EnableNFTables", "Backend",
    ];

    private static readonly string[] BackendKeys = ["Type"];

    private static readonly System.Buffers.SearchValues<char> Ip6Chars = System.Buffers.SearchValues.Create("0123456789abcdefABCDEF:");

    /// <summary>Decodes and checks: what etcd mode does with the cluster's config.</summary>
    public static NetConfig Parse(string json) => Check(Decode(json));

    /// <summary>
    /// Decodes the JSON with Go's encoding/json semantics and checks what is wrong in any mode: value types and
    /// formats, that some address family is enabled, and the backend type. Defaults for SubnetLen/Min/Max are not
    /// applied (0 means "unset", as upstream).
    /// </summary>
    public static NetConfig Decode(string json)
    {
        using JsonDocument document = GoJson.ParseObject(json, Context);
        var config = new NetConfig();
        bool backendSeen = false;
        foreach ((string? key, JsonProperty property) in GoJson.Members(document.RootElement, Keys))
        {
            JsonElement value = property.Value;
            switch (key)
            {
                case "Network":
                    config = config with { Network = ReadNet4(value, key) };
                    break;
                case "SubnetLen":
                    config = config with { SubnetLen = ReadSubnetLen(value, key, 30, config.SubnetLen) };
                    break;
                case "SubnetMin":
                    config = config with { SubnetMin = ReadIp4(value, key) };
                    break;
                case "SubnetMax":
                    config = config with { SubnetMax = ReadIp4(value, key) };
                    break;
                case "EnableIPv4":
                    config = config with { EnableIPv4 = GoJson.ReadBool(value, Context, key) ?? config.EnableIPv4 };
                    break;
                case "EnableIPv6":
                    config = config with { EnableIPv6 = GoJson.ReadBool(value, Context, key) ?? config.EnableIPv6 };
                    break;
                case "EnableNFTables":
                    config = config with { EnableNFTables = GoJson.ReadBool(value, Context, key) ?? config.EnableNFTables };
                    break;
                case "IPv6Network":
                    config = config with { IPv6Network = ReadNet6(value, key) };
                    break;
                case "IPv6SubnetLen":
                    config = config with { IPv6SubnetLen = ReadSubnetLen(value, key, 126, config.IPv6SubnetLen) };
                    break;
                case "IPv6SubnetMin":
                    config = config with { IPv6SubnetMin = ReadIp6(value, key) ?? config.IPv6SubnetMin };
                    break;
                case "IPv6SubnetMax":
                    config = config with { IPv6SubnetMax = ReadIp6(value, key) ?? config.IPv6SubnetMax };
                    break;
                case "Backend":
                    config = config with { BackendType = ReadBackendType(value), Backend = value.GetRawText() };
                    backendSeen = true;
                    break;
                default:
                    break;
            }
        }

        if (!config.EnableIPv4 && !config.EnableIPv6)
        {
            throw new ConfigException("EnableIPv4", $"{Context}: EnableIPv4 false and EnableIPv6 false: none defined stack");
        }

        // Upstream's parseBackendType returns "udp" when Backend is absent, but its documentation (configuration.md)
        // promises vxlan and every shipped manifest sets vxlan. Flannel.NET follows the documentation.
        return backendSeen ? config : config with { BackendType = NetConfig.DefaultBackendType, Backend = "{}" };
    }

    /// <summary>
    /// Upstream's CheckNetworkConfig: fills SubnetLen, SubnetMin and SubnetMax (and the IPv6 ones) with their
    /// defaults and checks that they fit the network, for each enabled family. Also rejects SubnetMin above
    /// SubnetMax, which upstream accepts and then fails to allocate from.
    /// </summary>
    public static NetConfig Check(NetConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        if (config.EnableIPv4)
        {
            config = Check4(config);
        }

        if (config.EnableIPv6)
        {
            config = Check6(config);
        }

        return config;
    }

    private static NetConfig Check4(NetConfig config)
    {
        if (config.Network is not { } network || (network.Address == 0 && network.PrefixLength == 0))
        {
            string shown = config.Network is { } given ? given.ToString() : "\"\"";
            throw GoJson.Error(Context, "Network", shown, "please define a correct Network parameter in the flannel config");
        }

        int subnetLen = config.SubnetLen;
        if (subnetLen > 0)
        {
            if (subnetLen > 30)
            {
                throw GoJson.Error(Context, "SubnetLen", Show(subnetLen), "SubnetLen must be less than /31");
            }

            if (subnetLen < network.PrefixLength + 2)
            {
                throw GoJson.Error(Context, "SubnetLen", Show(subnetLen),
                    $"network must be able to accommodate at least four subnets (Network {network})");
            }
        }
        else if (network.PrefixLength > 28)
        {
            throw GoJson.Error(Context, "Network", network.ToString(), "network is too small. Minimum useful network prefix is /28");
        }
        else
        {
            subnetLen = network.PrefixLength <= 22 ? 24 : network.PrefixLength + 2;
        }

        uint subnetSize = 1u << (32 - subnetLen);
        uint subnetMin = config.SubnetMin;
        if (subnetMin == 0)
        {
            // The first subnet is skipped: its first address would be the network's own address.
            subnetMin = network.Address + subnetSize;
        }
        else if (!network.Contains(subnetMin))
        {
            throw GoJson.Error(Context, "SubnetMin", Ip4.Format(subnetMin), $"SubnetMin is not in the range of the Network {network}");
        }

        uint subnetMax = config.SubnetMax;
        if (subnetMax == 0)
        {
            subnetMax = network.Next().Address - subnetSize;
        }
        else if (!network.Contains(subnetMax))
        {
            throw GoJson.Error(Context, "SubnetMax", Ip4.Format(subnetMax), $"SubnetMax is not in the range of the Network {network}");
        }

        uint mask = Ip4.MaskOf(subnetLen);
        if ((subnetMin & mask) != subnetMin)
        {
            throw new ConfigException("SubnetMin", $"{Context}: SubnetMin {Ip4.Format(subnetMin)} is not on a SubnetLen boundary (SubnetLen {subnetLen})");
        }

        if ((subnetMax & mask) != subnetMax)
        {
            throw new ConfigException("SubnetMax", $"{Context}: SubnetMax {Ip4.Format(subnetMax)} is not on a SubnetLen boundary (SubnetLen {subnetLen})");
        }

        if (subnetMin > subnetMax)
        {
            throw new ConfigException("SubnetMin", $"{Context}: SubnetMin {Ip4.Format(subnetMin)} is above SubnetMax {Ip4.Format(subnetMax)}: no subnet can be leased");
        }

        return config with { SubnetLen = subnetLen, SubnetMin = subnetMin, SubnetMax = subnetMax };
    }

    private static NetConfig Check6(NetConfig config)
    {
        if (config.IPv6Network is not { } network || (network.Address == UInt128.Zero && network.PrefixLength == 0))
        {
            string shown = config.IPv6Network is { } given ? given.ToString() : "\"\"";
            throw GoJson.Error(Context, "IPv6Network", shown, "please define a correct IPv6Network parameter in the flannel config");
        }

        int subnetLen = config.IPv6SubnetLen;
        if (subnetLen > 0)
        {
            if (subnetLen > 126)
            {
                throw GoJson.Error(Context, "IPv6SubnetLen", Show(subnetLen), "SubnetLen must be less than /127");
            }

            if (subnetLen < network.PrefixLength + 2)
            {
                throw GoJson.Error(Context, "IPv6SubnetLen", Show(subnetLen),
                    $"network must be able to accommodate at least four subnets (IPv6Network {network})");
            }
        }
        else if (network.PrefixLength > 124)
        {
            throw GoJson.Error(Context, "IPv6Network", network.ToString(), "IPv6Network is too small. Minimum useful network prefix is /124");
        }
        else
        {
            subnetLen = network.PrefixLength <= 62 ? 64 : network.PrefixLength + 2;
        }

        UInt128 subnetSize = UInt128.One << (128 - subnetLen);
        UInt128 subnetMin = config.IPv6SubnetMin;
        if (subnetMin == UInt128.Zero)
        {
            subnetMin = network.Address + subnetSize;
        }
        else if (!network.Contains(subnetMin))
        {
            throw GoJson.Error(Context, "IPv6SubnetMin", Ip6.Format(subnetMin), $"IPv6SubnetMin is not in the range of the IPv6Network {network}");
        }

        UInt128 subnetMax = config.IPv6SubnetMax;
        if (subnetMax == UInt128.Zero)
        {
            // Wraps to the top of the address space for a network at its end, as the modular arithmetic intends.
            subnetMax = network.Next().Address - subnetSize;
        }
        else if (!network.Contains(subnetMax))
        {
            throw GoJson.Error(Context, "IPv6SubnetMax", Ip6.Format(subnetMax), $"IPv6SubnetMax is not in the range of the IPv6Network {network}");
        }

        UInt128 mask = Ip6.MaskOf(subnetLen);
        if ((subnetMin & mask) != subnetMin)
        {
            throw new ConfigException("IPv6SubnetMin", $"{Context}: IPv6SubnetMin {Ip6.Format(subnetMin)} is not on a SubnetLen boundary (IPv6SubnetLen {subnetLen})");
        }

        if ((subnetMax & mask) != subnetMax)
        {
            throw new ConfigException("IPv6SubnetMax", $"{Context}: IPv6SubnetMax {Ip6.Format(subnetMax)} is not on a SubnetLen boundary (IPv6SubnetLen {subnetLen})");
        }

        if (subnetMin > subnetMax)
        {
            throw new ConfigException("IPv6SubnetMin", $"{Context}: IPv6SubnetMin {Ip6.Format(subnetMin)} is above IPv6SubnetMax {Ip6.Format(subnetMax)}: no subnet can be leased");
        }

        return config with { IPv6SubnetLen = subnetLen, IPv6SubnetMin = subnetMin, IPv6SubnetMax = subnetMax };
    }

    private static string Show(int value) => value.ToString(CultureInfo.InvariantCulture);

    private static int ReadSubnetLen(JsonElement value, string key, int max, int current)
    {
        if (GoJson.ReadUInt(value, Context, key) is not { } length)
        {
            return current;
        }

        // Any larger length is meaningless in every mode; refusing it here also keeps it within an int.
        if (length > (ulong)max)
        {
            throw GoJson.Error(Context, key, value, $"SubnetLen must be less than /{max + 1}");
        }

        return (int)length;
    }

    // Go decodes Network through net.ParseCIDR, which drops host bits; JSON null fails there too.
    private static Ip4Net? ReadNet4(JsonElement value, string key)
    {
        string text = RequireString(value, key);
        if (text.Length == 0)
        {
            return null;
        }

        if (Ip4Net.TryParse(text, out Ip4Net net))
        {
            return net.Canonical;
        }

        string reason = TryParseNet6(text, out _)
            ? "is an IPv6 network; Network must be an IPv4 CIDR (put IPv6 networks in IPv6Network)"
            : "not an IPv4 CIDR (a.b.c.d/len)";
        throw GoJson.Error(Context, key, value, reason);
    }

    private static Ip6Net? ReadNet6(JsonElement value, string key)
    {
        string text = RequireString(value, key);
        if (text.Length == 0)
        {
            return null;
        }

        if (TryParseNet6(text, out Ip6Net net))
        {
            return net.Canonical;
        }

        string reason = Ip4Net.TryParse(text, out _)
            ? "is an IPv4 network; IPv6Network must be an IPv6 CIDR (put IPv4 networks in Network)"
            : "not an IPv6 CIDR (addr/len)";
        throw GoJson.Error(Context, key, value, reason);
    }

    private static uint ReadIp4(JsonElement value, string key)
    {
        string text = RequireString(value, key);
        if (text.Length == 0)
        {
            return 0;
        }

        return Ip4.TryParse(text, out uint address) ? address : throw GoJson.Error(Context, key, value, "not an IPv4 address");
    }

    // IPv6SubnetMin/Max are pointers upstream, so JSON null leaves them unset rather than failing.
    private static UInt128? ReadIp6(JsonElement value, string key)
    {
        string? text = value.ValueKind == JsonValueKind.Null ? null : RequireString(value, key);
        if (string.IsNullOrEmpty(text))
        {
            return null;
        }

        return TryParseIp6(text, out UInt128 address) ? address : throw GoJson.Error(Context, key, value, "not an IPv6 address");
    }

    private static string RequireString(JsonElement value, string key) =>
        value.ValueKind == JsonValueKind.String
            ? value.GetString()!
            : throw GoJson.Error(Context, key, value, $"must be a JSON string, not {GoJson.KindName(value.ValueKind)}");

    private static string ReadBackendType(JsonElement backend)
    {
        if (backend.ValueKind != JsonValueKind.Object)
        {
            throw GoJson.Error(Context, "Backend", backend, $"must be a JSON object such as {{\"Type\": \"vxlan\"}}, not {GoJson.KindName(backend.ValueKind)}");
        }

        string? type = null;
        JsonElement typeValue = default;
        foreach ((string? key, JsonProperty property) in GoJson.Members(backend, BackendKeys))
        {
            if (key is not null)
            {
                type = GoJson.ReadString(property.Value, Context, "Backend.Type") ?? type;
                typeValue = property.Value;
            }
        }

        if (string.IsNullOrEmpty(type))
        {
            throw new ConfigException("Backend.Type", $"{Context}: Backend.Type is missing: set it to one of {string.Join(", ", SupportedBackendTypes)}");
        }

        string lower = type.ToLowerInvariant();
        if (SupportedBackendTypes.Contains(lower))
        {
            return lower;
        }

        if (UpstreamOnlyBackendTypes.Contains(lower))
        {
            throw GoJson.Error(Context, "Backend.Type", typeValue,
                $"backend type {lower} is not supported by Flannel.NET (yet); supported: {string.Join(", ", SupportedBackendTypes)}");
        }

        throw GoJson.Error(Context, "Backend.Type", typeValue, $"unknown backend type: {lower}");
    }

    // Ip6.TryParse leans on IPAddress.TryParse, which also takes brackets, ports and dotted (IPv4-mapped) forms that Go's
    // ParseIP rejects or reads as IPv4; only plain hex-and-colon IPv6 text gets through to it.
    private static bool TryParseIp6(string text, out UInt128 address)
    {
        address = default;
        return !text.AsSpan().ContainsAnyExcept(Ip6Chars) && Ip6.TryParse(text, out address);
    }

    private static bool TryParseNet6(string text, out Ip6Net net)
    {
        net = default;
        int slash = text.IndexOf('/', StringComparison.Ordinal);
        return slash > 0 && TryParseIp6(text[..slash], out _) && Ip6Net.TryParse(text, out net);
    }
}
