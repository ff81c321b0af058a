using Flannel.Core.Net;

namespace Flannel.Core.Config;

/// <summary>
/// The content of subnet.env. Subnets are held canonical (<c>198.18.30.0/24</c>); the file shows the first
/// usable address (<c>198.18.30.1/24</c>). Networks may be lists, as the CNI plugin reads them.
/// </summary>
public sealed record SubnetEnv
{
    public IReadOnlyList<Ip4Net> Networks { get; init; } = [];

    public Ip4Net? Subnet { get; init; }

    public IReadOnlyList<Ip6Net> IPv6Networks { get; init; } = [];

    public Ip6Net? IPv6Subnet { get; init; }

    public int? Mtu { get; init; }

    public bool? IpMasq { get; init; }
}
