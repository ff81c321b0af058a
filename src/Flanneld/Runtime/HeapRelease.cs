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

    /// <summary>Bytes of short-lived objects a bulk pass may leave between two young collections.</summary>
    public const long YoungThreshold = 1 << 20;

    private static long s_releasedAt;
    private static int s_youngCount;
    private static long s_youngAt;

    /// <summary>Releases now: before and after a full sync, whose garbage is the daemon's largest.</summary>
    public static void Now()
    {
        GC.Collect(2, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        Volatile.Write(ref s_releasedAt, GC.GetTotalAllocatedBytes());
    }

    /// <summary>
    /// Collects the young generation when more than <see cref="YoungThreshold"/> was allocated since the last young
    /// collection. Called as a bulk pass goes (a kernel check parses 30,000 entries with 10,000 peers, each dropped at
    /// once): the collector's young budget after a full compaction let such a pass pile up ~4.5 MiB of them first,
    /// and the first check after start-up peaked 2 MiB above the rest. A collection that finds almost nothing alive
    /// takes well under a millisecond.
    /// </summary>
    public static void DuringBulkWork()
    {
        long allocated = GC.GetTotalAllocatedBytes();
        int young = GC.CollectionCount(0);
        if (young != s_youngCount)
        {
            s_youngCount = young;
            s_youngAt = allocated;
        }
        else if (allocated - s_youngAt > YoungThreshold)
        {
            GC.Collect(0, GCCollectionMode.Forced, blocking: true);
            s_youngCount = GC.CollectionCount(0);
            s_youngAt = allocated;
        }
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
