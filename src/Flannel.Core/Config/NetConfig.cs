using Flannel.Core.Net;

namespace Flannel.Core.Config;

/// <summary>
/// The cluster's net-conf.json, with upstream's defaults applied. <see cref="Backend"/> keeps the raw
/// <c>Backend</c> object so that each backend reads its own keys.
/// </summary>
public sealed record NetConfig
{
    /// <summary>Flannel.NET's default when net-conf has no Backend: vxlan, as upstream's documentation says (its code says udp).</summary>
    public const string DefaultBackendType = "vxlan";

    public bool EnableIPv4 { get; init; } = true;

    public bool EnableIPv6 { get; init; }

    public bool EnableNFTables { get; init; }

    public Ip4Net? Network { get; init; }

    public int SubnetLen { get; init; }

    public uint SubnetMin { get; init; }

    public uint SubnetMax { get; init; }

    public Ip6Net? IPv6Network { get; init; }

    public int IPv6SubnetLen { get; init; }

    public UInt128 IPv6SubnetMin { get; init; }

    public UInt128 IPv6SubnetMax { get; init; }

    /// <summary>The backend type, lower case (Type matches case-insensitively).</summary>
    public string BackendType { get; init; } = DefaultBackendType;

    /// <summary>The <c>Backend</c> object as raw JSON (<c>{}</c> when absent).</summary>
    public string Backend { get; init; } = "{}";
}
