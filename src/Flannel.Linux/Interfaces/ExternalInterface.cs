using System.Net;
using System.Net.NetworkInformation;

namespace Flannel.Linux.Interfaces;

/// <summary>
/// The interface flannel sends encapsulated / routed traffic through, and the addresses it announces.
/// <see cref="Address"/> is the interface's own address; <see cref="ExternalAddress"/> is what goes into the
/// lease as PublicIP (<c>--public-ip</c> when given, else the interface address).
/// </summary>
public sealed record ExternalInterface
{
    public required int Index { get; init; }

    public required string Name { get; init; }

    public required int Mtu { get; init; }

    public PhysicalAddress? HardwareAddress { get; init; }

    /// <summary>The interface's IPv4 address; null on an IPv6-only stack.</summary>
    public IPAddress? Address { get; init; }

    /// <summary>The interface's IPv6 address; null on an IPv4-only stack.</summary>
    public IPAddress? IPv6Address { get; init; }

    public IPAddress? ExternalAddress { get; init; }

    public IPAddress? ExternalIPv6Address { get; init; }
}

/// <summary>Which address families the network uses (net-conf.json EnableIPv4 / EnableIPv6).</summary>
public enum IpVersions
{
    IPv4,
    IPv6,
    DualStack,
}

/// <summary>The flags that steer interface selection, as flanneld takes them.</summary>
public sealed record ExternalInterfaceOptions
{
    /// <summary><c>--iface</c>, repeatable: an interface name or one of its IP addresses; the first that resolves wins.</summary>
    public IReadOnlyList<string> Interfaces { get; init; } = [];

    /// <summary><c>--iface-regex</c>, repeatable: matched against addresses first, then names.</summary>
    public IReadOnlyList<string> InterfaceRegexes { get; init; } = [];

    /// <summary><c>--iface-can-reach</c>: the interface the kernel would use to reach this address.</summary>
    public IPAddress? CanReach { get; init; }

    /// <summary><c>--public-ip</c>.</summary>
    public IPAddress? PublicIP { get; init; }

    /// <summary><c>--public-ipv6</c>.</summary>
    public IPAddress? PublicIPv6 { get; init; }

    public IpVersions Stack { get; init; } = IpVersions.IPv4;
}

/// <summary>No interface matched the selection flags, or the match is unusable (no address, MTU 0).</summary>
public sealed class InterfaceSelectionException : Exception
{
    public InterfaceSelectionException()
    {
    }

    public InterfaceSelectionException(string message)
        : base(message)
    {
    }

    public InterfaceSelectionException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
