using System.Net;
using System.Net.NetworkInformation;
using Flannel.Linux.Interop;
using Flannel.Linux.Netlink;

namespace Flannel.Linux.Tests.Netlink;

public sealed class RtnetlinkLinkTests
{
    [Fact]
    public async Task CreateLinkAsync_Vxlan_ReadsBackAttributes()
    {
        using var ns = new TestNamespace("vxlan");
        CancellationToken ct = TestNamespace.Timeout;
        Link underlay = await ns.Netlink.CreateLinkAsync(new VethLinkSpec("under0", "under1") { Up = true }, ct);
        await ns.Netlink.AddAddressAsync(underlay.Index, IpPrefix.Parse("192.0.2.10/24"), ct);
        var mac = PhysicalAddress.Parse("0E-11-22-33-44-55");

        Link vxlan = await ns.Netlink.CreateLinkAsync(
            new VxlanLinkSpec("flannel.1", new VxlanSettings
            {
                Vni = 1,
                Local = IPAddress.Parse("192.0.2.10"),
                UnderlayIndex = underlay.Index,
                Port = 0,
                Learning = false,
                Gbp = true,
            })
            { Mtu = 1450, HardwareAddress = mac },
            ct);

        Assert.Equal("vxlan", vxlan.Kind);
        Assert.Equal("flannel.1", vxlan.Name);
        Assert.Equal(1450, vxlan.Mtu);
        Assert.Equal(mac, vxlan.HardwareAddress);
        Assert.NotNull(vxlan.Vxlan);
        Assert.Equal(1u, vxlan.Vxlan.Vni);
        Assert.Equal(IPAddress.Parse("192.0.2.10"), vxlan.Vxlan.Local);
        Assert.Equal(underlay.Index, vxlan.Vxlan.UnderlayIndex);
        Assert.Equal((ushort)8472, vxlan.Vxlan.Port);
        Assert.False(vxlan.Vxlan.Learning);
        Assert.True(vxlan.Vxlan.Gbp);
        Assert.False(vxlan.Vxlan.L2Miss);
        Assert.False(vxlan.Vxlan.L3Miss);
        Assert.Null(vxlan.Vxlan.Group);
    }

    [Fact]
    public async Task ListLinksAsync_AfterCreatingVxlanWithPortAndLearning_DumpShowsThem()
    {
        using var ns = new TestNamespace("vxdump");
        CancellationToken ct = TestNamespace.Timeout;
        await ns.Netlink.CreateLinkAsync(new VxlanLinkSpec("flannel.7", new VxlanSettings { Vni = 7, Port = 4789, Learning = true }), ct);

        IReadOnlyList<Link> links = await ns.Netlink.ListLinksAsync(ct);

        Link vxlan = Assert.Single(links, l => l.Name == "flannel.7");
        Assert.Equal(7u, vxlan.Vxlan!.Vni);
        Assert.Equal((ushort)4789, vxlan.Vxlan.Port);
        Assert.True(vxlan.Vxlan.Learning);
        Assert.False(vxlan.Vxlan.Gbp);
        Assert.Contains(links, l => l.Name == "lo" && l.IsLoopback);
    }

    [Fact]
    public async Task CreateLinkAsync_NameTaken_ThrowsEexistNamingTheLink()
    {
        using var ns = new TestNamespace("eexist");
        CancellationToken ct = TestNamespace.Timeout;
        await ns.Netlink.CreateLinkAsync(new BridgeLinkSpec("dup0"), ct);

        NetlinkException error = await Assert.ThrowsAsync<NetlinkException>(() => ns.Netlink.CreateLinkAsync(new BridgeLinkSpec("dup0"), ct));

        Assert.Equal(Errno.EEXIST, error.Errno);
        Assert.True(error.IsAlreadyExists);
        Assert.Contains("dup0", error.Message, StringComparison.Ordinal);
        Assert.Contains("EEXIST", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CreateLinkAsync_BridgeAndVethPair_EnslavesAndReportsPeer()
    {
        using var ns = new TestNamespace("bridge");
        CancellationToken ct = TestNamespace.Timeout;
        Link bridge = await ns.Netlink.CreateLinkAsync(new BridgeLinkSpec("cni0") { Up = true }, ct);
        Link veth = await ns.Netlink.CreateLinkAsync(new VethLinkSpec("veth0", "veth1"), ct);

        await ns.Netlink.ChangeLinkAsync(veth.Index, new LinkChange { MasterIndex = bridge.Index, Up = true }, ct);

        Link peer = (await ns.Netlink.FindLinkAsync("veth1", ct))!;
        Link enslaved = (await ns.Netlink.FindLinkAsync(veth.Index, ct))!;
        Assert.Equal("bridge", bridge.Kind);
        Assert.Equal("veth", peer.Kind);
        Assert.Equal(veth.Index, peer.ParentIndex);
        Assert.Equal(bridge.Index, enslaved.MasterIndex);
        Assert.True(enslaved.IsUp);
    }

    [Fact]
    public async Task CreateLinkAsync_VethPeerInOtherNamespace_PeerAppearsThere()
    {
        using var a = new TestNamespace("vetha");
        using var b = new TestNamespace("vethb");
        CancellationToken ct = TestNamespace.Timeout;

        await a.Netlink.CreateLinkAsync(new VethLinkSpec("eth0", "eth0peer") { PeerNamespace = b.Namespace.Handle }, ct);

        Assert.NotNull(await a.Netlink.FindLinkAsync("eth0", ct));
        Assert.Null(await a.Netlink.FindLinkAsync("eth0peer", ct));
        Assert.NotNull(await b.Netlink.FindLinkAsync("eth0peer", ct));
    }

    [Fact]
    public async Task ChangeLinkAsync_UpMtuMac_AreApplied()
    {
        using var ns = new TestNamespace("change");
        CancellationToken ct = TestNamespace.Timeout;
        Link link = await ns.Netlink.CreateLinkAsync(new BridgeLinkSpec("d0"), ct);
        var mac = PhysicalAddress.Parse("0E-00-00-00-00-42");

        await ns.Netlink.SetLinkMtuAsync(link.Index, 1400, ct);
        await ns.Netlink.SetLinkHardwareAddressAsync(link.Index, mac, ct);
        await ns.Netlink.SetLinkUpAsync(link.Index, ct);
        Link changed = (await ns.Netlink.FindLinkAsync(link.Index, ct))!;
        await ns.Netlink.SetLinkDownAsync(link.Index, ct);
        Link down = (await ns.Netlink.FindLinkAsync("d0", ct))!;

        Assert.Equal(1400, changed.Mtu);
        Assert.Equal(mac, changed.HardwareAddress);
        Assert.True(changed.IsUp);
        Assert.False(down.IsUp);
    }

    [Fact]
    public async Task TryDeleteLinkAsync_ExistingThenMissing_TrueThenFalse()
    {
        using var ns = new TestNamespace("dellink");
        CancellationToken ct = TestNamespace.Timeout;
        await ns.Netlink.CreateLinkAsync(new BridgeLinkSpec("gone0"), ct);

        Assert.True(await ns.Netlink.TryDeleteLinkAsync("gone0", ct));
        Assert.False(await ns.Netlink.TryDeleteLinkAsync("gone0", ct));
        Assert.Null(await ns.Netlink.FindLinkAsync("gone0", ct));
    }

    [Fact]
    public async Task DeleteLinkAsync_MissingIndex_ThrowsEnodev()
    {
        using var ns = new TestNamespace("enodev");
        CancellationToken ct = TestNamespace.Timeout;

        NetlinkException error = await Assert.ThrowsAsync<NetlinkException>(() => ns.Netlink.DeleteLinkAsync(4242, ct));

        Assert.Equal(Errno.ENODEV, error.Errno);
        Assert.Contains("ENODEV", error.Message, StringComparison.Ordinal);
        Assert.Contains("index 4242", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task WatchLinksAsync_VxlanDeleted_ReportsDeleteEventWithNameAndKind()
    {
        using var ns = new TestNamespace("watch");
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        await using IAsyncEnumerator<LinkEvent> events = Rtnetlink.WatchLinksAsync(ns.Namespace, cts.Token).GetAsyncEnumerator(cts.Token);

        // The subscription socket exists once the first MoveNextAsync starts; start it before the changes.
        ValueTask<bool> first = events.MoveNextAsync();
        Link vxlan = await ns.Netlink.CreateLinkAsync(new VxlanLinkSpec("flannel.1", new VxlanSettings { Vni = 1 }), cts.Token);
        await ns.Netlink.DeleteLinkAsync(vxlan.Index, cts.Token);

        var seen = new List<LinkEvent>();
        bool more = await first;
        while (more)
        {
            seen.Add(events.Current);
            if (events.Current.Kind == LinkEventKind.Deleted)
            {
                break;
            }

            more = await events.MoveNextAsync();
        }

        LinkEvent deleted = seen[^1];
        Assert.Equal(LinkEventKind.Deleted, deleted.Kind);
        Assert.Equal("flannel.1", deleted.Link.Name);
        Assert.Equal(vxlan.Index, deleted.Link.Index);
        Assert.Equal("vxlan", deleted.Link.Kind);
        Assert.Contains(seen, e => e.Kind == LinkEventKind.NewOrChanged && e.Link.Name == "flannel.1");
    }

    [Fact]
    public async Task LinkSubscription_OpenedBeforeDelete_SeesDeleteWhenReadLater()
    {
        using var ns = new TestNamespace("subscr");
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        Link vxlan = await ns.Netlink.CreateLinkAsync(new VxlanLinkSpec("flannel.2", new VxlanSettings { Vni = 2 }), cts.Token);
        using var subscription = LinkSubscription.Open(ns.Namespace);

        await ns.Netlink.DeleteLinkAsync(vxlan.Index, cts.Token);

        await foreach (LinkEvent e in subscription.ReadAllAsync(cts.Token))
        {
            if (e.Kind == LinkEventKind.Deleted)
            {
                Assert.Equal("flannel.2", e.Link.Name);
                Assert.Equal("vxlan", e.Link.Kind);
                return;
            }
        }
    }

    [Fact]
    public async Task CreateFindListLinks_ConcurrentCallers_EachGetsItsOwnAnswer()
    {
        using var ns = new TestNamespace("concur");
        CancellationToken ct = TestNamespace.Timeout;

        await Task.WhenAll(Enumerable.Range(0, 16).Select(async i =>
        {
            string name = $"br{i}";
            Link created = await ns.Netlink.CreateLinkAsync(new BridgeLinkSpec(name), ct);
            Link? found = await ns.Netlink.FindLinkAsync(created.Index, ct);
            IReadOnlyList<Link> all = await ns.Netlink.ListLinksAsync(ct);
            Assert.Equal(name, created.Name);
            Assert.Equal(name, found?.Name);
            Assert.Contains(all, l => l.Index == created.Index);
        }));

        Assert.Equal(17, (await ns.Netlink.ListLinksAsync(ct)).Count);
    }
}
