using System.Net;

namespace Flannel.Linux.Netlink;

/// <summary>An address on an interface (RTM_NEWADDR).</summary>
public sealed record InterfaceAddress
{
    public required int InterfaceIndex { get; init; }

    /// <summary>The local address and its prefix length (IFA_LOCAL, or IFA_ADDRESS when there is no IFA_LOCAL).</summary>
    public required IpPrefix Prefix { get; init; }

    /// <summary>RT_SCOPE_*: 0 global, 253 link, 254 host.</summary>
    public byte Scope { get; init; }

    /// <summary>IFA_F_* flags (IFA_FLAGS when present, else the 8-bit ifa_flags).</summary>
    public uint Flags { get; init; }

    public string? Label { get; init; }

    /// <summary>IFA_ADDRESS when it differs from the local address (the peer of a point-to-point link).</summary>
    public IPAddress? Peer { get; init; }

    public const uint FlagTemporary = 0x01;
    public const uint FlagDeprecated = 0x20;
    public const uint FlagPermanent = 0x80;

    public bool IsPermanent => (Flags & FlagPermanent) != 0;

    public bool IsDeprecated => (Flags & FlagDeprecated) != 0;

    public bool IsTemporary => (Flags & FlagTemporary) != 0;

    public override string ToString() => $"address {Prefix} on index {InterfaceIndex}";
}
