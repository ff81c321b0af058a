namespace Flanneld.Runtime;

/// <summary>
/// Gives memory back after the daemon's bulk work. The workstation GC keeps the heap it grew for a burst committed:
/// with 10,000 peers a snapshot's sync, a kernel check of every entry (every 10 s) or a batch of 1,000 lease events
/// each allocate megabytes, and VmRSS would settle at the largest such burst plus the GC's free regions (44 MiB
/// instead of 33, bench/run-all.sh converge). A compacting collection that decommits what is free returns it; it takes
/// a few ms with 10,000 peers, and only runs once the daemon has allocated <see cref="Threshold"/> since the last one,
/// so a small cluster or a single lease change does not pay it.
/// </summary>
public static class HeapRelease
{
    /// <summary>Bytes allocated since the last release after which bulk work ends with one.</summary>
    public const long Threshold = 4 << 20;

    private static long s_releasedAt;

    /// <summary>Releases now: before and after a full sync, whose garbage is the daemon's largest.</summary>
    public static void Now()
    {
        GC.Collect(2, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        Volatile.Write(ref s_releasedAt, GC.GetTotalAllocatedBytes());
    }

    /// <summary>Releases when more than <see cref="Threshold"/> was allocated since the last release.</summary>
    public static void AfterBulkWork()
    {
        if (GC.GetTotalAllocatedBytes() - Volatile.Read(ref s_releasedAt) > Threshold)
        {
            Now();
        }
    }
}
