using Flannel.Core.Config;
using Flannel.Core.Net;

namespace Flannel.Core.Leases;

/// <summary>
/// Picks a free subnet for a new lease: uniformly at random among the candidates between SubnetMin and SubnetMax
/// that overlap no existing lease. The cost grows with the number of leases, never with the size of the network
/// (an IPv6 network holds up to 2^64 candidates): taken leases become merged intervals of candidate indices, and a
/// random rank among the free indices is mapped back through those intervals.
/// </summary>
public static class SubnetAllocator
{
    /// <summary>A random free IPv4 subnet of <see cref="NetConfig.SubnetLen"/> in [SubnetMin, SubnetMax], or null when all are taken.</summary>
    public static Ip4Net? PickIp4(NetConfig config, IEnumerable<Ip4Net> taken, Func<UInt128, UInt128> random)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(taken);
        ArgumentNullException.ThrowIfNull(random);
        Grid grid = Ip4Grid(config);
        UInt128? index = Pick(grid, taken.Select(t => (Start: (UInt128)t.Canonical.Address, End: (UInt128)t.Last)), random);
        return index is { } i ? new Ip4Net((uint)(grid.Min + (i * grid.Step)), config.SubnetLen) : null;
    }

    /// <summary>A random free IPv6 subnet of <see cref="NetConfig.IPv6SubnetLen"/> in [IPv6SubnetMin, IPv6SubnetMax], or null when all are taken.</summary>
    public static Ip6Net? PickIp6(NetConfig config, IEnumerable<Ip6Net> taken, Func<UInt128, UInt128> random)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(taken);
        ArgumentNullException.ThrowIfNull(random);
        Grid grid = Ip6Grid(config);
        UInt128? index = Pick(grid, taken.Select(t => (Start: t.Canonical.Address, End: t.Last)), random);
        return index is { } i ? new Ip6Net(grid.Min + (i * grid.Step), config.IPv6SubnetLen) : null;
    }

    /// <summary>How many IPv4 subnets the config offers (SubnetMin to SubnetMax).</summary>
    public static UInt128 CountIp4(NetConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        return Ip4Grid(config).Count;
    }

    /// <summary>How many IPv6 subnets the config offers (IPv6SubnetMin to IPv6SubnetMax).</summary>
    public static UInt128 CountIp6(NetConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        return Ip6Grid(config).Count;
    }

    /// <summary>True when <paramref name="subnet"/> is one of the subnets the config hands out (upstream's isSubnetConfigCompat).</summary>
    public static bool IsCompatible(NetConfig config, Ip4Net subnet)
    {
        ArgumentNullException.ThrowIfNull(config);
        return config.Network is { } network
            && subnet.PrefixLength == config.SubnetLen
            && subnet.IsCanonical
            && network.Contains(subnet)
            && subnet.Address >= config.SubnetMin
            && subnet.Address <= config.SubnetMax;
    }

    /// <summary>True when <paramref name="subnet"/> is one of the IPv6 subnets the config hands out.</summary>
    public static bool IsCompatible(NetConfig config, Ip6Net subnet)
    {
        ArgumentNullException.ThrowIfNull(config);
        return config.IPv6Network is { } network
            && subnet.PrefixLength == config.IPv6SubnetLen
            && subnet.IsCanonical
            && network.Contains(subnet)
            && subnet.Address >= config.IPv6SubnetMin
            && subnet.Address <= config.IPv6SubnetMax;
    }

    /// <summary>True when the lease has exactly the families the config enables, each compatible.</summary>
    public static bool IsCompatible(NetConfig config, Lease lease)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(lease);
        bool v4 = config.EnableIPv4
            ? lease.Subnet is { } s4 && IsCompatible(config, s4)
            : lease.Subnet is null;
        bool v6 = config.EnableIPv6
            ? lease.IPv6Subnet is { } s6 && IsCompatible(config, s6)
            : lease.IPv6Subnet is null;
        return v4 && v6;
    }

    /// <summary>
    /// A uniform random value in [0, bound) from <see cref="Random.Shared"/>, which each process seeds from the
    /// system's entropy, so nodes do not pick alike (upstream uses math/rand too). Not RandomNumberGenerator: on Linux
    /// that loads OpenSSL's libcrypto (3 MiB of RSS for the daemon's lifetime) for a choice that needs no secrecy.
    /// </summary>
    public static UInt128 SystemRandom(UInt128 bound)
    {
        ArgumentOutOfRangeException.ThrowIfZero(bound);
        if (bound == UInt128.One)
        {
            return UInt128.Zero;
        }

        // Rejection sampling over the smallest power of two covering bound keeps the draw unbiased.
        int bits = 128 - (int)UInt128.LeadingZeroCount(bound - UInt128.One);
        UInt128 mask = bits == 128 ? UInt128.MaxValue : (UInt128.One << bits) - UInt128.One;
        Span<byte> bytes = stackalloc byte[16];
        while (true)
        {
            Random.Shared.NextBytes(bytes);
            UInt128 value = new UInt128(BitConverter.ToUInt64(bytes[..8]), BitConverter.ToUInt64(bytes[8..])) & mask;
            if (value < bound)
            {
                return value;
            }
        }
    }

    private static Grid Ip4Grid(NetConfig config)
    {
        if (config.SubnetLen is < 1 or > 32)
        {
            throw new ArgumentException($"SubnetLen {config.SubnetLen} is not an IPv4 prefix length", nameof(config));
        }

        UInt128 step = UInt128.One << (32 - config.SubnetLen);
        return Grid.Create(config.SubnetMin, config.SubnetMax, step);
    }

    private static Grid Ip6Grid(NetConfig config)
    {
        if (config.IPv6SubnetLen is < 1 or > 128)
        {
            throw new ArgumentException($"IPv6SubnetLen {config.IPv6SubnetLen} is not an IPv6 prefix length", nameof(config));
        }

        UInt128 step = config.IPv6SubnetLen == 128 ? UInt128.One : UInt128.One << (128 - config.IPv6SubnetLen);
        return Grid.Create(config.IPv6SubnetMin, config.IPv6SubnetMax, step);
    }

    private static UInt128? Pick(Grid grid, IEnumerable<(UInt128 Start, UInt128 End)> taken, Func<UInt128, UInt128> random)
    {
        if (grid.Count == UInt128.Zero)
        {
            return null;
        }

        // Each taken range blocks the candidates it overlaps: a contiguous run of indices.
        var blocked = new List<(UInt128 First, UInt128 Last)>();
        UInt128 lastIndex = grid.Count - UInt128.One;
        foreach ((UInt128 start, UInt128 end) in taken)
        {
            if (end < grid.Min)
            {
                continue;
            }

            UInt128 first = start <= grid.Min ? UInt128.Zero : (start - grid.Min) / grid.Step;
            if (first > lastIndex)
            {
                continue;
            }

            UInt128 last = (end - grid.Min) / grid.Step;
            blocked.Add((first, last > lastIndex ? lastIndex : last));
        }

        blocked.Sort((a, b) => a.First.CompareTo(b.First));
        var merged = new List<(UInt128 First, UInt128 Last)>(blocked.Count);
        foreach ((UInt128 first, UInt128 last) in blocked)
        {
            if (merged.Count > 0 && first <= merged[^1].Last + UInt128.One)
            {
                if (last > merged[^1].Last)
                {
                    merged[^1] = (merged[^1].First, last);
                }
            }
            else
            {
                merged.Add((first, last));
            }
        }

        UInt128 blockedCount = UInt128.Zero;
        foreach ((UInt128 first, UInt128 last) in merged)
        {
            blockedCount += last - first + UInt128.One;
        }

        UInt128 free = grid.Count - blockedCount;
        if (free == UInt128.Zero)
        {
            return null;
        }

        // The rank-th free index: skip every blocked run that starts at or before it.
        UInt128 rank = random(free);
        if (rank >= free)
        {
            throw new InvalidOperationException($"random source returned {rank}, outside [0, {free})");
        }

        UInt128 index = rank;
        foreach ((UInt128 first, UInt128 last) in merged)
        {
            if (first > index)
            {
                break;
            }

            index += last - first + UInt128.One;
        }

        return index;
    }

    /// <summary>Candidates Min, Min+Step, ... up to Max: Count of them.</summary>
    private readonly record struct Grid(UInt128 Min, UInt128 Step, UInt128 Count)
    {
        public static Grid Create(UInt128 min, UInt128 max, UInt128 step) =>
            new(min, step, max < min ? UInt128.Zero : ((max - min) / step) + UInt128.One);
    }
}
