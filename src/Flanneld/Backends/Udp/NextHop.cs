using Flannel.Core.Net;

namespace Flanneld.Backends.Udp;

/// <summary>Where packets for a remote subnet go: the remote node's public IPv4 (host order) and udp port.</summary>
public readonly record struct NextHop(uint Address, ushort Port)
{
    public override string ToString() => $"{Ip4.Format(Address)}:{Port}";
}
