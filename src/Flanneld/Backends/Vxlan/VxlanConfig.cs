using System.Globalization;
using System.Text.Json;
using Flannel.Core.Config;

namespace Flanneld.Backends.Vxlan;

/// <summary>
/// The vxlan backend's keys of net-conf's Backend object (upstream <c>pkg/backend/vxlan/vxlan.go</c> VXLANConfig),
/// read with Go's encoding/json semantics. <see cref="Name"/> is Flannel.NET's: upstream always names the device
/// <c>flannel.&lt;VNI&gt;</c>.
/// </summary>
public sealed record VxlanConfig
{
    public const int DefaultVni = 1;

    public const int MaxVni = (1 << 24) - 1;

    /// <summary>The port the kernel uses when <see cref="Port"/> is 0 (Linux's historical VXLAN port, not IANA's 4789).</summary>
    public const int KernelDefaultPort = 8472;

    /// <summary>Bytes of outer IPv4 + UDP + VXLAN + Ethernet headers: the device MTU is the outer MTU minus this.</summary>
    public const int Overhead = 50;

    /// <summary>
    /// The same with an IPv6 outer header (20 bytes longer). Upstream asks for outer MTU − 50 on <c>flannel-v6</c> too, but
    /// the kernel clamps a new device to this headroom (and refuses a later change above it), so this is what it gets.
    /// </summary>
    public const int IPv6Overhead = 70;

    private const int MinMtu = 68 + Overhead;

    private const int MaxInterfaceName = 15;

    private static readonly string[] Keys = ["VNI", "Port", "GBP", "Learning", "DirectRouting", "MTU", "Name"];

    public int Vni { get; init; } = DefaultVni;

    /// <summary>UDP destination port; 0 lets the kernel use <see cref="KernelDefaultPort"/>.</summary>
    public int Port { get; init; }

    public bool Gbp { get; init; }

    public bool Learning { get; init; }

    public bool DirectRouting { get; init; }

    /// <summary>The outer MTU (<see cref="Overhead"/> is subtracted for the device); 0 means the external interface's MTU.</summary>
    public int Mtu { get; init; }

    /// <summary>The IPv4 VXLAN device's name.</summary>
    public string Name { get; init; } = DefaultName(DefaultVni);

    /// <summary>
    /// The IPv6 VXLAN device's name, as upstream: <c>flannel-v6.&lt;VNI&gt;</c>. Longer than a Linux interface name
    /// allows for VNIs of five or more digits; the backend must check when IPv6 is enabled.
    /// </summary>
    public string IPv6Name => string.Create(CultureInfo.InvariantCulture, $"flannel-v6.{Vni}");

    /// <summary>Reads the Backend object (its Type and unknown keys are ignored); empty text gives the defaults.</summary>
    public static VxlanConfig Parse(string backendJson)
    {
        ArgumentNullException.ThrowIfNull(backendJson);
        if (string.IsNullOrWhiteSpace(backendJson))
        {
            return new VxlanConfig();
        }

        using JsonDocument document = GoJson.ParseObject(backendJson, NetConfigParser.Context);
        var config = new VxlanConfig();
        string? name = null;
        foreach ((string? key, JsonProperty property) in GoJson.Members(document.RootElement, Keys))
        {
            JsonElement value = property.Value;
            config = key switch
            {
                "VNI" => config with { Vni = ReadInt(value, "Backend.VNI", 0, MaxVni) ?? config.Vni },
                "Port" => config with { Port = ReadInt(value, "Backend.Port", 0, 65535) ?? config.Port },
                "GBP" => config with { Gbp = GoJson.ReadBool(value, NetConfigParser.Context, "Backend.GBP") ?? config.Gbp },
                "Learning" => config with { Learning = GoJson.ReadBool(value, NetConfigParser.Context, "Backend.Learning") ?? config.Learning },
                "DirectRouting" => config with { DirectRouting = GoJson.ReadBool(value, NetConfigParser.Context, "Backend.DirectRouting") ?? config.DirectRouting },
                "MTU" => config with { Mtu = ReadMtu(value) ?? config.Mtu },
                _ => config,
            };
            if (key == "Name")
            {
                name = ReadName(value) ?? name;
            }
        }

        if (name is not null)
        {
            return config with { Name = name };
        }

        string defaultName = DefaultName(config.Vni);
        if (defaultName.Length > MaxInterfaceName)
        {
            throw GoJson.Error(NetConfigParser.Context, "Backend.VNI", config.Vni.ToString(CultureInfo.InvariantCulture),
                $"device name {defaultName} would be longer than {MaxInterfaceName} characters; set Backend.Name");
        }

        return config with { Name = defaultName };
    }

    private static string DefaultName(int vni) => string.Create(CultureInfo.InvariantCulture, $"flannel.{vni}");

    private static int? ReadInt(JsonElement value, string key, int min, int max)
    {
        long? number = GoJson.ReadInt(value, NetConfigParser.Context, key);
        return number is null || (number >= min && number <= max)
            ? (int?)number
            : throw GoJson.Error(NetConfigParser.Context, key, value, string.Create(CultureInfo.InvariantCulture, $"must be {min}..{max}"));
    }

    private static int? ReadMtu(JsonElement value)
    {
        long? mtu = GoJson.ReadInt(value, NetConfigParser.Context, "Backend.MTU");
        return mtu is null || mtu == 0 || (mtu >= MinMtu && mtu <= 65535)
            ? (int?)mtu
            : throw GoJson.Error(NetConfigParser.Context, "Backend.MTU", value,
                string.Create(CultureInfo.InvariantCulture, $"must be 0 (the interface's MTU) or {MinMtu}..65535 (the outer MTU; {Overhead} is subtracted for the device)"));
    }

    // Linux dev_valid_name: 1..15 bytes, not "." or "..", no '/', ':' or whitespace.
    private static string? ReadName(JsonElement value)
    {
        string? name = GoJson.ReadString(value, NetConfigParser.Context, "Backend.Name");
        if (name is null)
        {
            return null;
        }

        bool valid = name.Length is > 0 and <= MaxInterfaceName && name is not ("." or "..")
            && name.All(c => c > ' ' && c < 0x7f && c != '/' && c != ':');
        return valid
            ? name
            : throw GoJson.Error(NetConfigParser.Context, "Backend.Name", value,
                $"not a valid interface name (1..{MaxInterfaceName} printable ASCII characters, no '/', ':' or space)");
    }
}
