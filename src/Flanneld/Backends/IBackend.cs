using Flannel.Core.Config;
using Flannel.Core.Leases;
using Flannel.Linux.Interfaces;

namespace Flanneld.Backends;

/// <summary>
/// How packets cross nodes (upstream's Backend): vxlan, host-gw, udp, alloc. A backend prepares the node (devices),
/// acquires the lease with the attributes it advertises, and returns the network that programs peers.
/// </summary>
public interface IBackend
{
    /// <summary>The net-conf Backend.Type this backend serves, lower case.</summary>
    string Type { get; }

    Task<IBackendNetwork> RegisterNetworkAsync(BackendContext context, CancellationToken cancellationToken);
}

/// <summary>What a backend needs to register: the config, the underlay, the store, and what subnet.env held before.</summary>
public sealed record BackendContext(NetConfig Config, ExternalInterface Interface, ILeaseStore Store, SubnetEnv? PreviousSubnetEnv);
