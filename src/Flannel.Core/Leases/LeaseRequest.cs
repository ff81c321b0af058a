using Flannel.Core.Config;
using Flannel.Core.Net;

namespace Flannel.Core.Leases;

/// <summary>What a node asks the store for: its attributes, and the subnets it held before (from subnet.env).</summary>
public sealed record LeaseRequest(NetConfig Config, LeaseAttrs Attrs, Ip4Net? PreviousSubnet = null, Ip6Net? PreviousIPv6Subnet = null);
