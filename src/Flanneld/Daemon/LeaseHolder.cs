using Flannel.Core.Leases;

namespace Flanneld.Daemon;

/// <summary>
/// This node's current lease, shared by the renewer (which extends it) and the reconciler (which notices when it is
/// deleted and takes it back). Waiters learn of each replacement.
/// </summary>
public sealed class LeaseHolder
{
    private readonly Lock _gate = new();
    private Lease _lease;
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public LeaseHolder(Lease lease)
    {
        _lease = lease;
    }

    public Lease Lease
    {
        get
        {
            lock (_gate)
            {
                return _lease;
            }
        }
    }

    /// <summary>Replaces <paramref name="expected"/> with <paramref name="replacement"/>; false if another replacement came first.</summary>
    public bool Replace(Lease expected, Lease replacement)
    {
        TaskCompletionSource changed;
        lock (_gate)
        {
            if (!ReferenceEquals(_lease, expected))
            {
                return false;
            }

            _lease = replacement;
            changed = _changed;
            _changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        changed.TrySetResult();
        return true;
    }

    /// <summary>Completes once the held lease is no longer <paramref name="seen"/>.</summary>
    public Task WaitForChangeAsync(Lease seen, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            return ReferenceEquals(_lease, seen) ? _changed.Task.WaitAsync(cancellationToken) : Task.CompletedTask;
        }
    }
}
