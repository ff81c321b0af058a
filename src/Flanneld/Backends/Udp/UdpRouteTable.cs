using Flannel.Core.Net;

namespace Flanneld.Backends.Udp;

/// <summary>
/// Remote subnet -> next hop, read by the forwarding threads on every packet and written by the control plane.
/// Writers build a new immutable snapshot under a lock and publish it with one reference write, so lookups never
/// lock or wait and always see a consistent table. Longest prefix wins.
/// </summary>
public sealed class UdpRouteTable
{
    private readonly Lock _writeLock = new();
    private volatile Snapshot _current = Snapshot.Empty;

    public int Count => _current.Count;

    /// <summary>Adds or replaces the route for <paramref name="subnet"/> (host bits are ignored).</summary>
    public void Set(Ip4Net subnet, NextHop nextHop)
    {
        lock (_writeLock)
        {
            Dictionary<Ip4Net, NextHop> routes = _current.ToDictionary();
            routes[subnet.Canonical] = nextHop;
            _current = new Snapshot(routes);
        }
    }

    /// <summary>Removes the route for <paramref name="subnet"/>; false when there was none.</summary>
    public bool Remove(Ip4Net subnet)
    {
        lock (_writeLock)
        {
            Dictionary<Ip4Net, NextHop> routes = _current.ToDictionary();
            if (!routes.Remove(subnet.Canonical))
            {
                return false;
            }

            _current = new Snapshot(routes);
            return true;
        }
    }

    /// <summary>Replaces the whole table at once (e.g. after a full lease resync).</summary>
    public void Replace(IEnumerable<KeyValuePair<Ip4Net, NextHop>> routes)
    {
        ArgumentNullException.ThrowIfNull(routes);
        var fresh = new Dictionary<Ip4Net, NextHop>();
        foreach ((Ip4Net subnet, NextHop hop) in routes)
        {
            fresh[subnet.Canonical] = hop;
        }

        lock (_writeLock)
        {
            _current = new Snapshot(fresh);
        }
    }

    /// <summary>Longest-prefix match for a destination address (host order). Lock-free, allocation-free.</summary>
    public bool TryLookup(uint destination, out NextHop nextHop) => _current.TryLookup(destination, out nextHop);

    public IReadOnlyDictionary<Ip4Net, NextHop> ToDictionary() => _current.ToDictionary();

    private sealed class Snapshot
    {
        public static readonly Snapshot Empty = new(new Dictionary<Ip4Net, NextHop>());

        // One exact-match table per prefix length, longest first: flannel leases nearly always share one length,
        // so a lookup is usually a single hash probe whatever the cluster size.
        private readonly int[] _lengths;
        private readonly Dictionary<uint, NextHop>[] _byLength;
        private readonly Dictionary<Ip4Net, NextHop> _routes;

        public Snapshot(Dictionary<Ip4Net, NextHop> routes)
        {
            _routes = routes;
            _lengths = [.. routes.Keys.Select(k => k.PrefixLength).Distinct().OrderDescending()];
            _byLength = new Dictionary<uint, NextHop>[_lengths.Length];
            for (int i = 0; i < _lengths.Length; i++)
            {
                _byLength[i] = routes.Where(r => r.Key.PrefixLength == _lengths[i]).ToDictionary(r => r.Key.Address, r => r.Value);
            }
        }

        public int Count => _routes.Count;

        public Dictionary<Ip4Net, NextHop> ToDictionary() => new(_routes);

        public bool TryLookup(uint destination, out NextHop nextHop)
        {
            for (int i = 0; i < _lengths.Length; i++)
            {
                if (_byLength[i].TryGetValue(destination & Ip4.MaskOf(_lengths[i]), out nextHop))
                {
                    return true;
                }
            }

            nextHop = default;
            return false;
        }
    }
}
