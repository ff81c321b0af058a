namespace Flannel.Core.Leases;

/// <summary>
/// Holds the set of remote leases and turns what the store delivers into the events a backend must act on:
/// a snapshot becomes the diff against what is held, a lease whose data path did not change (a renewal)
/// produces nothing, and this node's own lease is never passed on.
/// </summary>
public sealed class LeaseWatcher
{
    private readonly Dictionary<string, Lease> _remote = new(StringComparer.Ordinal);
    private readonly string _ownKey;

    public LeaseWatcher(Lease own)
    {
        ArgumentNullException.ThrowIfNull(own);
        _ownKey = own.Key;
    }

    public IReadOnlyCollection<Lease> Remote => _remote.Values;

    public IReadOnlyList<LeaseEvent> Apply(LeaseWatchBatch batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        return batch.Snapshot is { } snapshot ? Reset(snapshot) : Update(batch.Events);
    }

    public IReadOnlyList<LeaseEvent> Reset(IReadOnlyList<Lease> snapshot)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        // Sized once: with 10,000 leases every growth step would leave a large array behind until a full GC.
        var result = new List<LeaseEvent>(snapshot.Count);
        var seen = new HashSet<string>(snapshot.Count, StringComparer.Ordinal);
        _remote.EnsureCapacity(snapshot.Count);
        foreach (Lease lease in snapshot)
        {
            string key = lease.Key;
            if (key == _ownKey || !seen.Add(key))
            {
                continue;
            }

            if (!_remote.TryGetValue(key, out Lease? held) || !held.SameDataPath(lease))
            {
                result.Add(new LeaseEvent(LeaseEventType.Added, lease));
            }

            _remote[key] = lease;
        }

        foreach (string key in _remote.Keys.Where(k => !seen.Contains(k)).ToList())
        {
            result.Add(new LeaseEvent(LeaseEventType.Removed, _remote[key]));
            _remote.Remove(key);
        }

        return result;
    }

    public IReadOnlyList<LeaseEvent> Update(IReadOnlyList<LeaseEvent> events)
    {
        ArgumentNullException.ThrowIfNull(events);
        var result = new List<LeaseEvent>(events.Count);
        foreach (LeaseEvent e in events)
        {
            string key = e.Lease.Key;
            if (key == _ownKey)
            {
                continue;
            }

            if (e.Type == LeaseEventType.Added)
            {
                if (!_remote.TryGetValue(key, out Lease? held) || !held.SameDataPath(e.Lease))
                {
                    result.Add(e);
                }

                _remote[key] = e.Lease;
            }
            else if (_remote.Remove(key, out Lease? removed))
            {
                result.Add(new LeaseEvent(LeaseEventType.Removed, removed));
            }
        }

        return result;
    }
}
