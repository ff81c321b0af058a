using System.Net;

namespace Flanneld.Backends;

/// <summary>
/// The node's underlay interface as flanneld chose it (--iface, --iface-regex, --iface-can-reach or the default route),
/// and the addresses it advertises to peers (--public-ip, else the interface's own).
/// </summary>
public sealed record ExternalInterface(
    string Name,
    int Index,
    int Mtu,
    IPAddress? InterfaceAddress,
    IPAddress? InterfaceAddressV6,
    IPAddress? PublicIP,
    IPAddress? PublicIPv6);
