using System.Net;
using System.Net.NetworkInformation;
using Flannel.Linux.Netlink;
using Flanneld.Backends.Routing;

namespace Flanneld.Tests.Backends.Routing;

public class KernelPlanTests
{
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
        KernelPlan plan = KernelPlan.Build(want, [.. want.SelectMany(p => p.Routes)], [.. want.SelectMany(p => p.Neighbours)], [.. want.SelectMany(p => p.Fdb)]);
        Assert.True(plan.IsEmpty);
    }

    [Fact]
    public void Build_EmptyKernel_AddsEverything()
    {
        KernelPlan plan = KernelPlan.Build([Peer(2), Peer(3)], [], [], []);
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

        KernelPlan first = KernelPlan.Build([a, b], [], [], []);
        Assert.Equal(F("0a:00:00:00:00:02", "192.0.2.3"), first.ReplaceFdb[^1]);

        KernelPlan again = KernelPlan.Build([a, b], [.. a.Routes, .. b.Routes], [.. a.Neighbours, .. b.Neighbours], [.. b.Fdb]);
        Assert.True(again.IsEmpty);
    }

    [Fact]
    public void Build_StalePeerInKernel_DeletedAndOthersKept()
    {
        PeerEntries stale = Peer(9);
        KernelPlan plan = KernelPlan.Build([Peer(2)],
            [.. Peer(2).Routes, .. stale.Routes], [.. Peer(2).Neighbours, .. stale.Neighbours], [.. Peer(2).Fdb, .. stale.Fdb]);
        Assert.Equal(stale.Routes, plan.DeleteRoutes);
        Assert.Equal(stale.Neighbours, plan.DeleteNeighbours);
        Assert.Equal(stale.Fdb, plan.DeleteFdb);
        Assert.Empty(plan.ReplaceRoutes);
    }

    [Fact]
    public void Build_ChangedMacAndGateway_Replaced()
    {
        KernelPlan plan = KernelPlan.Build([Peer(2)],
            [R("198.18.2.0/24", "192.0.2.2", dev: 2, onlink: false)],
            [N("198.18.2.0", "0a:ff:ff:ff:ff:ff")],
            [F("0a:00:00:00:00:02", "192.0.2.99")]);
        Assert.Single(plan.ReplaceRoutes);
        Assert.Single(plan.ReplaceNeighbours);
        Assert.Single(plan.ReplaceFdb);
        Assert.Empty(plan.DeleteRoutes);
    }

    [Fact]
    public void ToBatch_DeletesFirstThenInstallOrder()
    {
        KernelPlan plan = KernelPlan.Build([Peer(2)], Peer(9).Routes, Peer(9).Neighbours, Peer(9).Fdb);
        using NetlinkBatch batch = plan.ToBatch();
        Assert.Equal(6, batch.Count);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(4)]
    [InlineData(5)]
    [InlineData(100)]
    public void AppendTo_InChunks_CoversEveryChangeOnce(int chunk)
    {
        KernelPlan plan = KernelPlan.Build([Peer(2), Peer(3), Peer(4)], Peer(9).Routes, Peer(9).Neighbours, Peer(9).Fdb);
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
