using System.Net;
using System.Net.NetworkInformation;
using Flannel.Linux.Netlink;
using Flanneld.Backends.Routing;

namespace Flanneld.Tests.Backends.Routing;

public class KernelPlanTests
{
    /// <summary>The plan from the desired entries and a kernel dump, each entry reported to the builder as a dump would.</summary>
    private static KernelPlan Plan(IEnumerable<PeerEntries> want, IEnumerable<Route> routes, IEnumerable<Neighbour> neighbours, IEnumerable<FdbEntry> fdb)
    {
        var builder = new KernelPlanBuilder(want);
        foreach (Route r in routes)
        {
            builder.Have(r);
        }

        foreach (Neighbour n in neighbours)
        {
            builder.Have(n);
        }

        foreach (FdbEntry f in fdb)
        {
            builder.Have(f);
        }

        return builder.Build();
    }

    private static Route R(string dst, string gw, int dev = 3, bool onlink = true) =>
        new() { Destination = IpPrefix.Parse(dst), Gateway = IPAddress.Parse(gw), OutputInterface = dev, OnLink = onlink };

    private static Neighbour N(string ip, string mac) =>
        new() { InterfaceIndex = 3, Address = IPAddress.Parse(ip), LinkAddress = Mac.Parse(mac) };

    private static FdbEntry F(string mac, string dst) =>
        new() { InterfaceIndex = 3, LinkAddress = Mac.Parse(mac), Destination = IPAddress.Parse(dst) };

    private static PeerEntries Peer(int i) => new(
        [N($"198.18.{i}.0", $"0a:00:00:00:00:{i:x2}")],
        [F($"0a:00:00:00:00:{i:x2}", $"192.0.2.{i}")],
        [R($"198.18.{i}.0/24", $"198.18.{i}.0")]);

    [Fact]
    public void Build_KernelAlreadyRight_ChangesNothing()
    {
        PeerEntries[] want = [Peer(2), Peer(3)];
        KernelPlan plan = Plan(want, [.. want.SelectMany(p => p.Routes)], [.. want.SelectMany(p => p.Neighbours)], [.. want.SelectMany(p => p.Fdb)]);
        Assert.True(plan.IsEmpty);
    }

    [Fact]
    public void Build_EmptyKernel_AddsEverything()
    {
        KernelPlan plan = Plan([Peer(2), Peer(3)], [], [], []);
        Assert.Equal(2, plan.ReplaceRoutes.Count);
        Assert.Equal(2, plan.ReplaceNeighbours.Count);
        Assert.Equal(2, plan.ReplaceFdb.Count);
        Assert.Equal(0, plan.DeleteRoutes.Count + plan.DeleteFdb.Count + plan.DeleteNeighbours.Count);
    }

    [Fact]
    public void Build_MacWantedByTwoPeers_LaterOneApplied_ThenLeftAlone()
    {
        PeerEntries a = Peer(2);
        PeerEntries b = new([N("198.18.3.0", "0a:00:00:00:00:02")], [F("0a:00:00:00:00:02", "192.0.2.3")], [R("198.18.3.0/24", "198.18.3.0")]);

        KernelPlan first = Plan([a, b], [], [], []);
        Assert.Equal(F("0a:00:00:00:00:02", "192.0.2.3"), first.ReplaceFdb[^1]);

        KernelPlan again = Plan([a, b], [.. a.Routes, .. b.Routes], [.. a.Neighbours, .. b.Neighbours], [.. b.Fdb]);
        Assert.True(again.IsEmpty);
    }

    [Fact]
    public void Build_DumpReadTwiceAfterAnInterruption_SamePlan()
    {
        PeerEntries[] want = [Peer(2), Peer(3)];
        Route[] routes = [.. Peer(2).Routes, .. Peer(9).Routes];
        KernelPlan once = Plan(want, routes, Peer(2).Neighbours, []);
        KernelPlan twice = Plan(want, [.. routes, .. routes], [.. Peer(2).Neighbours, .. Peer(2).Neighbours], []);
        Assert.Equal(once.ReplaceRoutes, twice.ReplaceRoutes);
        Assert.Equal(once.ReplaceNeighbours, twice.ReplaceNeighbours);
        Assert.Equal(once.ReplaceFdb, twice.ReplaceFdb);
        Assert.Equal([Peer(3).Routes[0]], once.ReplaceRoutes);
        Assert.Equal(Peer(9).Routes, once.DeleteRoutes.Distinct());
    }

    [Fact]
    public void Build_StalePeerInKernel_DeletedAndOthersKept()
    {
        PeerEntries stale = Peer(9);
        KernelPlan plan = Plan([Peer(2)],
            [.. Peer(2).Routes, .. stale.Routes], [.. Peer(2).Neighbours, .. stale.Neighbours], [.. Peer(2).Fdb, .. stale.Fdb]);
        Assert.Equal(stale.Routes, plan.DeleteRoutes);
        Assert.Equal(stale.Neighbours, plan.DeleteNeighbours);
        Assert.Equal(stale.Fdb, plan.DeleteFdb);
        Assert.Empty(plan.ReplaceRoutes);
    }

    [Fact]
    public void Build_ChangedMacAndGateway_Replaced()
    {
        KernelPlan plan = Plan([Peer(2)],
            [R("198.18.2.0/24", "192.0.2.2", dev: 2, onlink: false)],
            [N("198.18.2.0", "0a:ff:ff:ff:ff:ff")],
            [F("0a:00:00:00:00:02", "192.0.2.99")]);
        Assert.Single(plan.ReplaceRoutes);
        Assert.Single(plan.ReplaceNeighbours);
        Assert.Single(plan.ReplaceFdb);
        Assert.Empty(plan.DeleteRoutes);
    }

    [Fact]
    public void AppendTo_DeletesFirstThenInstallOrder()
    {
        KernelPlan plan = Plan([Peer(2)], Peer(9).Routes, Peer(9).Neighbours, Peer(9).Fdb);
        using var batch = new NetlinkBatch();
        plan.AppendTo(batch, 0, plan.Changes);
        Assert.Equal(6, batch.Count);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(4)]
    [InlineData(5)]
    [InlineData(100)]
    public void AppendTo_InChunks_CoversEveryChangeOnce(int chunk)
    {
        KernelPlan plan = Plan([Peer(2), Peer(3), Peer(4)], Peer(9).Routes, Peer(9).Neighbours, Peer(9).Fdb);
        var sizes = new List<int>();
        using var batch = new NetlinkBatch();
        for (int start = 0; start < plan.Changes; start += chunk)
        {
            batch.Clear();
            plan.AppendTo(batch, start, chunk);
            sizes.Add(batch.Count);
        }

        Assert.Equal(12, sizes.Sum());
        Assert.All(sizes[..^1], size => Assert.Equal(chunk, size));
        Assert.Equal((12 - 1) / chunk + 1, sizes.Count);
    }
}
