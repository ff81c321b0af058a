using Flannel.Core.Leases;
using Flannel.Linux.Interfaces;

namespace Flanneld.Backends.Alloc;

/// <summary>
/// Leases a subnet and programs nothing: for clusters whose data path is set up by something else, and to run the
/// daemon end to end without kernel work. Like upstream, its lease carries no BackendType.
/// </summary>
public sealed class AllocBackend : IBackend
{
    public string Type => "alloc";

    public async Task<IBackendNetwork> RegisterNetworkAsync(BackendContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        ExternalInterface iface = context.Interface;
        var attrs = new LeaseAttrs(iface.ExternalAddress ?? System.Net.IPAddress.Any, iface.ExternalIPv6Address);
        var request = new LeaseRequest(context.Config, attrs, context.PreviousSubnetEnv?.Subnet, context.PreviousSubnetEnv?.IPv6Subnet);
        Lease lease = await context.Store.AcquireLeaseAsync(request, cancellationToken);
        return new AllocNetwork(lease, iface.Mtu);
    }

    private sealed class AllocNetwork(Lease lease, int mtu) : IBackendNetwork
    {
        public Lease Lease => lease;

        public int Mtu => mtu;

        public Task SyncAsync(IReadOnlyCollection<Lease> remoteLeases, CancellationToken cancellationToken) => Task.CompletedTask;

        public Task ApplyAsync(IReadOnlyList<LeaseEvent> events, CancellationToken cancellationToken) => Task.CompletedTask;

        public Task RunAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}
