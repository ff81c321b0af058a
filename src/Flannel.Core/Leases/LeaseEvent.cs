namespace Flannel.Core.Leases;

public enum LeaseEventType
{
    /// <summary>A lease appeared or its data path changed: program it (replace semantics).</summary>
    Added,

    /// <summary>A lease went away: remove what was programmed for it.</summary>
    Removed,
}

public readonly record struct LeaseEvent(LeaseEventType Type, Lease Lease);
