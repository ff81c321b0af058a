using Flannel.Core.Leases;

namespace Flanneld.Backends;

/// <summary>
/// A registered backend: this node's lease and MTU, and the kernel programming for remote leases. The reconcile loop
/// calls <see cref="SyncAsync"/> and <see cref="ApplyAsync"/> from one task at a time; <see cref="RunAsync"/> runs
/// beside them, so state both touch is the implementation's to guard.
/// </summary>
public interface IBackendNetwork : IAsyncDisposable
{
    /// <summary>This node's lease as acquired.</summary>
    Lease Lease { get; }

    /// <summary>The MTU pods should use (FLANNEL_MTU).</summary>
    int Mtu { get; }

    /// <summary>Kernel (or forwarder) entries programmed for remote leases, for the metrics.</summary>
    int ProgrammedEntries => 0;

    /// <summary>
    /// Converges the kernel to exactly these remote leases: adds what is missing, removes what belongs to no lease
    /// (peers that vanished while the daemon was down), leaves correct entries alone (no flapping).
    /// </summary>
    Task SyncAsync(IReadOnlyCollection<Lease> remoteLeases, CancellationToken cancellationToken);

    /// <summary>Applies incremental changes, in order.</summary>
    Task ApplyAsync(IReadOnlyList<LeaseEvent> events, CancellationToken cancellationToken);

    /// <summary>Background upkeep (re-adding deleted routes, recreating a deleted device) until cancelled.</summary>
    Task RunAsync(CancellationToken cancellationToken);
}
