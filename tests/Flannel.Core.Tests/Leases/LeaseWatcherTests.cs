using System.Net;
using Flannel.Core.Leases;
using Flannel.Core.Net;

namespace Flannel.Core.Tests.Leases;

public class LeaseWatcherTests
{
    private static Lease L(string subnet, string ip, string? data = null) =>
        new(Ip4Net.Parse(subnet), null, new LeaseAttrs(IPAddress.Parse(ip), null, "vxlan", data), DateTimeOffset.UnixEpoch);

    private static readonly Lease Own = L("198.18.1.0/24", "192.0.2.1");

    [Fact]
    public void Reset_FirstSnapshot_AddsAllButOwn()
    {
        var watcher = new LeaseWatcher(Own);
        IReadOnlyList<LeaseEvent> events = watcher.Reset([Own, L("198.18.2.0/24", "192.0.2.2"), L("198.18.3.0/24", "192.0.2.3")]);
        Assert.Equal(2, events.Count);
        Assert.All(events, e => Assert.Equal(LeaseEventType.Added, e.Type));
        Assert.DoesNotContain(events, e => e.Lease.Key == Own.Key);
    }

    [Fact]
    public void Reset_SecondSnapshot_DiffsAgainstHeld()
    {
        var watcher = new LeaseWatcher(Own);
        watcher.Reset([L("198.18.2.0/24", "192.0.2.2"), L("198.18.3.0/24", "192.0.2.3")]);
        IReadOnlyList<LeaseEvent> events = watcher.Reset([L("198.18.3.0/24", "192.0.2.3"), L("198.18.4.0/24", "192.0.2.4")]);
        Assert.Equal(2, events.Count);
        Assert.Contains(events, e => e.Type == LeaseEventType.Added && e.Lease.Key == "198.18.4.0-24");
        Assert.Contains(events, e => e.Type == LeaseEventType.Removed && e.Lease.Key == "198.18.2.0-24");
    }

    [Fact]
    public void Update_RenewalWithSameDataPath_ProducesNothing()
    {
        var watcher = new LeaseWatcher(Own);
        watcher.Reset([L("198.18.2.0/24", "192.0.2.2")]);
        Lease renewed = L("198.18.2.0/24", "192.0.2.2") with { Expiration = DateTimeOffset.UnixEpoch.AddDays(1), Revision = 9 };
        Assert.Empty(watcher.Update([new LeaseEvent(LeaseEventType.Added, renewed)]));
    }

    [Fact]
    public void Update_ChangedAttrs_ReAdds()
    {
        var watcher = new LeaseWatcher(Own);
        watcher.Reset([L("198.18.2.0/24", "192.0.2.2", """{"VNI":1,"VtepMAC":"aa:aa:aa:aa:aa:aa"}""")]);
        IReadOnlyList<LeaseEvent> events = watcher.Update([new LeaseEvent(LeaseEventType.Added, L("198.18.2.0/24", "192.0.2.2", """{"VNI":1,"VtepMAC":"bb:bb:bb:bb:bb:bb"}"""))]);
        Assert.Single(events);
        Assert.Equal(LeaseEventType.Added, events[0].Type);
    }

    [Fact]
    public void Update_RemoveUnknownOrOwn_ProducesNothing_RemoveKnownCarriesHeldLease()
    {
        var watcher = new LeaseWatcher(Own);
        Lease held = L("198.18.2.0/24", "192.0.2.2", """{"VNI":1,"VtepMAC":"aa:aa:aa:aa:aa:aa"}""");
        watcher.Reset([held]);
        Assert.Empty(watcher.Update([new LeaseEvent(LeaseEventType.Removed, Own), new LeaseEvent(LeaseEventType.Removed, L("198.18.9.0/24", "192.0.2.9"))]));
        // A DELETE from the store knows only the key: the backend needs the attributes it programmed.
        IReadOnlyList<LeaseEvent> events = watcher.Update([new LeaseEvent(LeaseEventType.Removed, L("198.18.2.0/24", "0.0.0.0"))]);
        Assert.Same(held, Assert.Single(events).Lease);
        Assert.Empty(watcher.Remote);
    }
}
