using System.Text.Json.Nodes;
using Flannel.Core.Leases;
using Flannel.Core.Net;
using Flanneld.Leases.Kubernetes;
using Flannel.Lab.Kubernetes;
using static Flanneld.Tests.Leases.Kubernetes.KubeTestSupport;

namespace Flanneld.Tests.Leases.Kubernetes;

public sealed class KubeLeaseStoreWatchTests : IAsyncLifetime
{
    private FakeKubeApiServer _server = null!;

    public async Task InitializeAsync()
    {
        _server = await FakeKubeApiServer.StartAsync();
        _server.BookmarkInterval = TimeSpan.FromMilliseconds(200);
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task WatchLeases_Start_SnapshotHoldsOnlyFlannelNodes()
    {
        _server.AddNode(FakeKubeApiServer.NodeObject("node1", "198.18.1.0/24", FlannelAnnotations("192.0.2.1")));
        _server.AddNode(FakeKubeApiServer.NodeObject("node2", "198.18.2.0/24", FlannelAnnotations("192.0.2.2", "4a:fe:33:28:ca:02")));
        _server.AddNode(FakeKubeApiServer.NodeObject("other", "198.18.3.0/24", new Dictionary<string, string> { ["example.org/x"] = "y" }));
        _server.AddNode(FakeKubeApiServer.NodeObject("bare", "198.18.4.0/24"));
        using KubeLeaseStore store = Store(_server, Settings());
        await using var probe = new WatchProbe(store);

        LeaseWatchBatch snapshot = await probe.NextAsync();

        Assert.True(snapshot.IsSnapshot);
        Assert.Equal(["198.18.1.0-24", "198.18.2.0-24"], snapshot.Snapshot!.Select(l => l.Key).Order());
        Lease node2 = snapshot.Snapshot!.Single(l => l.Key == "198.18.2.0-24");
        Assert.Equal("192.0.2.2", node2.Attrs.PublicIP.ToString());
        Assert.Equal("vxlan", node2.Attrs.BackendType);
        Assert.Equal("{\"VNI\":1,\"VtepMAC\":\"4a:fe:33:28:ca:02\"}", node2.Attrs.BackendData);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task WatchLeases_NodeAddedUpdatedDeleted_Events(bool metadataOnly)
    {
        using KubeLeaseStore store = Store(_server, Settings() with { MetadataOnlyWatch = metadataOnly });
        await using var probe = new WatchProbe(store);
        Assert.Empty((await probe.NextAsync()).Snapshot!);

        _server.AddNode(FakeKubeApiServer.NodeObject("node2", "198.18.2.0/24", FlannelAnnotations("192.0.2.2")));
        LeaseEvent added = Assert.Single(await probe.EventsUntilAsync(e => e.Count >= 1));
        Assert.Equal(LeaseEventType.Added, added.Type);
        Assert.Equal(Ip4Net.Parse("198.18.2.0/24"), added.Lease.Subnet);

        _server.UpdateNode("node2", n => n["metadata"]!["annotations"]![Prefix + "public-ip"] = "192.0.2.22");
        LeaseEvent updated = Assert.Single(await probe.EventsUntilAsync(e => e.Count >= 1));
        Assert.Equal(LeaseEventType.Added, updated.Type);
        Assert.Equal("192.0.2.22", updated.Lease.Attrs.PublicIP.ToString());

        _server.DeleteNode("node2");
        LeaseEvent removed = Assert.Single(await probe.EventsUntilAsync(e => e.Count >= 1));
        Assert.Equal(LeaseEventType.Removed, removed.Type);
        Assert.Equal("198.18.2.0-24", removed.Lease.Key);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task WatchLeases_IrrelevantUpdates_NoEvent(bool metadataOnly)
    {
        _server.AddNode(FakeKubeApiServer.NodeObject("node2", "198.18.2.0/24", FlannelAnnotations("192.0.2.2")));
        using KubeLeaseStore store = Store(_server, Settings() with { MetadataOnlyWatch = metadataOnly });
        await using var probe = new WatchProbe(store);
        await probe.NextAsync();

        // Kubelet heartbeats, a label, another controller's annotation: none is part of a lease.
        _server.UpdateNode("node2", n => n["status"]!["conditions"]![0]!["lastHeartbeatTime"] = "2026-11-25T22:00:00Z");
        _server.UpdateNode("node2", n => n["metadata"]!["labels"] = new JsonObject { ["zone"] = "a" });
        _server.UpdateNode("node2", n => n["metadata"]!["annotations"]!["node.alpha.kubernetes.io/ttl"] = "0");
        await probe.AssertQuietAsync(0.5);

        _server.UpdateNode("node2", n => n["metadata"]!["annotations"]![Prefix + "backend-data"] = "{\"VNI\":1,\"VtepMAC\":\"4a:fe:33:28:ca:99\"}");
        LeaseEvent changed = Assert.Single(await probe.EventsUntilAsync(e => e.Count >= 1));
        Assert.Contains("4a:fe:33:28:ca:99", changed.Lease.Attrs.BackendData, StringComparison.Ordinal);
    }

    [Fact]
    public async Task WatchLeases_MetadataOnly_FetchesPodCidrOnceWhenNodeJoinsFlannel()
    {
        using KubeLeaseStore store = Store(_server, Settings());
        await using var probe = new WatchProbe(store);
        await probe.NextAsync();

        // A node registers (no podCIDR yet), gets one from the controller manager, then its flanneld annotates it.
        _server.AddNode(FakeKubeApiServer.NodeObject("joiner"));
        _server.UpdateNode("joiner", n => n["spec"] = new JsonObject { ["podCIDR"] = "198.18.20.0/24", ["podCIDRs"] = new JsonArray("198.18.20.0/24") });
        _server.UpdateNode("joiner", n => n["metadata"]!["annotations"] = new JsonObject(FlannelAnnotations("192.0.2.20").Select(a => KeyValuePair.Create(a.Key, (JsonNode?)a.Value))));
        LeaseEvent added = Assert.Single(await probe.EventsUntilAsync(e => e.Count >= 1));
        _server.UpdateNode("joiner", n => n["metadata"]!["annotations"]![Prefix + "public-ip"] = "192.0.2.21");
        LeaseEvent updated = Assert.Single(await probe.EventsUntilAsync(e => e.Count >= 1));

        Assert.Equal(Ip4Net.Parse("198.18.20.0/24"), added.Lease.Subnet);
        Assert.Equal(Ip4Net.Parse("198.18.20.0/24"), updated.Lease.Subnet);
        Assert.Equal("192.0.2.21", updated.Lease.Attrs.PublicIP.ToString());
        Assert.Single(_server.Requests, r => r.PathAndQuery == "/api/v1/nodes/joiner");
        Assert.True(_server.MetadataWatches >= 1);
    }

    [Fact]
    public async Task WatchLeases_AnnotationsRemoved_LeaseRemoved()
    {
        _server.AddNode(FakeKubeApiServer.NodeObject("node2", "198.18.2.0/24", FlannelAnnotations("192.0.2.2")));
        using KubeLeaseStore store = Store(_server, Settings());
        await using var probe = new WatchProbe(store);
        await probe.NextAsync();

        _server.UpdateNode("node2", n => ((JsonObject)n["metadata"]!).Remove("annotations"));

        LeaseEvent removed = Assert.Single(await probe.EventsUntilAsync(e => e.Count >= 1));
        Assert.Equal(LeaseEventType.Removed, removed.Type);
    }

    [Fact]
    public async Task WatchLeases_ExpiredAsErrorEventInHttp200_RelistsAndSnapshotDropsDeletedNode()
    {
        _server.AddNode(FakeKubeApiServer.NodeObject("node2", "198.18.2.0/24", FlannelAnnotations("192.0.2.2")));
        _server.AddNode(FakeKubeApiServer.NodeObject("node3", "198.18.3.0/24", FlannelAnnotations("192.0.2.3")));
        using KubeLeaseStore store = Store(_server, Settings());
        await using var probe = new WatchProbe(store);
        Assert.Equal(2, (await probe.NextAsync()).Snapshot!.Count);
        Assert.False(_server.ExpiredWatchAsHttpStatus);

        // node3 goes and history is compacted before the watcher sees it: it gets 410 inside its 200 stream.
        await WaitForWatchAsync();
        _server.Atomically(() =>
        {
            _server.DeleteNode("node3");
            _server.AddNode(FakeKubeApiServer.NodeObject("node4", "198.18.4.0/24", FlannelAnnotations("192.0.2.4")));
            _server.Compact();
        });

        LeaseWatchBatch snapshot = await NextSnapshotAsync(probe);
        Assert.Equal(["198.18.2.0-24", "198.18.4.0-24"], snapshot.Snapshot!.Select(l => l.Key).Order());
        Assert.Equal(2, _server.ListRequests);
        Assert.Equal(1, _server.ExpiredErrorEvents);
    }

    [Fact]
    public async Task WatchLeases_ExpiredAsHttp410_Relists()
    {
        _server.ExpiredWatchAsHttpStatus = true;
        _server.AddNode(FakeKubeApiServer.NodeObject("node2", "198.18.2.0/24", FlannelAnnotations("192.0.2.2")));
        using KubeLeaseStore store = Store(_server, Settings());
        await using var probe = new WatchProbe(store);
        await probe.NextAsync();

        await WaitForWatchAsync();
        _server.Atomically(() =>
        {
            _server.DeleteNode("node2");
            _server.Compact();
        });

        LeaseWatchBatch snapshot = await NextSnapshotAsync(probe);
        Assert.Empty(snapshot.Snapshot!);
        Assert.Equal(1, _server.ExpiredHttpResponses);
        Assert.Equal(0, _server.ExpiredErrorEvents);
    }

    [Fact]
    public async Task WatchLeases_ServerClosesWatch_ResumesFromLastVersionWithoutRelist()
    {
        _server.AddNode(FakeKubeApiServer.NodeObject("node2", "198.18.2.0/24", FlannelAnnotations("192.0.2.2")));
        using KubeLeaseStore store = Store(_server, Settings());
        await using var probe = new WatchProbe(store);
        await probe.NextAsync();

        for (int round = 0; round < 3; round++)
        {
            await WaitForWatchAsync();
            _server.CloseWatches();
            _server.AddNode(FakeKubeApiServer.NodeObject($"new{round}", $"198.18.{10 + round}.0/24", FlannelAnnotations($"192.0.2.{10 + round}")));
            LeaseEvent added = Assert.Single(await probe.EventsUntilAsync(e => e.Count >= 1));
            Assert.Equal(Ip4Net.Parse($"198.18.{10 + round}.0/24"), added.Lease.Subnet);
        }

        Assert.Equal(1, _server.ListRequests);
        Assert.True(_server.WatchRequests >= 4, $"watch requests: {_server.WatchRequests}");
        Assert.All(
            _server.Requests.Where(r => r.PathAndQuery.Contains("watch=true", StringComparison.Ordinal)),
            r => Assert.Contains("allowWatchBookmarks=true", r.PathAndQuery, StringComparison.Ordinal));
    }

    [Fact]
    public async Task WatchLeases_MalformedAnnotations_SkippedWithWarningNamingNode()
    {
        Dictionary<string, string> badJson = FlannelAnnotations("192.0.2.5");
        badJson[Prefix + "backend-data"] = "{\"VNI\":1,";
        Dictionary<string, string> badMac = FlannelAnnotations("192.0.2.6", "zz:fe:33:28:ca:bf");
        Dictionary<string, string> badIP = FlannelAnnotations("192.0.2.300");
        _server.AddNode(FakeKubeApiServer.NodeObject("bad-json", "198.18.5.0/24", badJson));
        _server.AddNode(FakeKubeApiServer.NodeObject("bad-mac", "198.18.6.0/24", badMac));
        _server.AddNode(FakeKubeApiServer.NodeObject("bad-ip", "198.18.7.0/24", badIP));
        _server.AddNode(FakeKubeApiServer.NodeObject("bad-cidr", "not-a-cidr", FlannelAnnotations("192.0.2.8")));
        _server.AddNode(FakeKubeApiServer.NodeObject("good", "198.18.9.0/24", FlannelAnnotations("192.0.2.9")));
        var logger = new CapturingLogger();
        using KubeLeaseStore store = Store(_server, Settings(), logger);
        await using var probe = new WatchProbe(store);

        LeaseWatchBatch snapshot = await probe.NextAsync();

        Assert.Equal("198.18.9.0-24", Assert.Single(snapshot.Snapshot!).Key);
        foreach (string node in new[] { "bad-json", "bad-mac", "bad-ip", "bad-cidr" })
        {
            Assert.Contains(logger.Warnings, w => w.Contains($"\"{node}\"", StringComparison.Ordinal));
        }

        // A node that turns bad later is dropped, and the watch goes on.
        _server.UpdateNode("good", n => n["metadata"]!["annotations"]![Prefix + "public-ip"] = "garbage");
        Assert.Equal(LeaseEventType.Removed, Assert.Single(await probe.EventsUntilAsync(e => e.Count >= 1)).Type);
        _server.AddNode(FakeKubeApiServer.NodeObject("later", "198.18.10.0/24", FlannelAnnotations("192.0.2.10")));
        Assert.Equal(LeaseEventType.Added, Assert.Single(await probe.EventsUntilAsync(e => e.Count >= 1)).Type);
    }

    [Fact]
    public async Task WatchLeases_NodeWithoutAnyAnnotations_IgnoredWithoutCrash()
    {
        // Upstream v0.20.2 panics ("assignment to entry in nil map") on such a node.
        _server.AddNode(FakeKubeApiServer.NodeObject("bare", "198.18.4.0/24", annotations: null));
        using KubeLeaseStore store = Store(_server, Settings("bare"));
        await using var probe = new WatchProbe(store);
        Assert.Empty((await probe.NextAsync()).Snapshot!);

        _server.AddNode(FakeKubeApiServer.NodeObject("bare2", null, annotations: null));
        _server.UpdateNode("bare", n => n["status"]!["conditions"]![0]!["status"] = "False");
        await probe.AssertQuietAsync(0.3);

        Lease lease = await store.AcquireLeaseAsync(new LeaseRequest(Vxlan, new LeaseAttrs(System.Net.IPAddress.Parse("192.0.2.4"), null, "vxlan", "{\"VNI\":1,\"VtepMAC\":\"4a:fe:33:28:ca:04\"}")), CancellationToken.None);
        Assert.Equal("198.18.4.0-24", lease.Key);
        Assert.Equal(lease.Key, Assert.Single(await probe.EventsUntilAsync(e => e.Count >= 1)).Lease.Key);
    }

    [Fact]
    public async Task WatchLeases_ListPaged_SnapshotHoldsEveryPage()
    {
        for (int i = 1; i <= 7; i++)
        {
            _server.AddNode(FakeKubeApiServer.NodeObject($"node{i}", $"198.18.{i}.0/24", FlannelAnnotations($"192.0.2.{i}")));
        }

        using KubeLeaseStore store = Store(_server, Settings() with { ListPageSize = 3 });
        await using var probe = new WatchProbe(store);

        Assert.Equal(7, (await probe.NextAsync()).Snapshot!.Count);
        Assert.Equal(3, _server.ListRequests);
    }

    [Fact]
    public async Task WatchLeases_ApiServerDown_RetriesUntilItAnswers()
    {
        using KubeLeaseStore store = Store(_server, Settings());
        _server.RequiredBearerToken = "not-sent";
        await using var probe = new WatchProbe(store);
        await Task.Delay(300);
        int failedLists = _server.Requests.Count(r => r.PathAndQuery.StartsWith("/api/v1/nodes?limit=", StringComparison.Ordinal));
        _server.RequiredBearerToken = null;

        Assert.True((await probe.NextAsync()).IsSnapshot);
        Assert.True(failedLists >= 2, $"retried {failedLists} times");
    }

    [Fact]
    public async Task RenewLease_Always_ReturnsSameLeaseWithFreshExpiry()
    {
        using KubeLeaseStore store = Store(_server, Settings());
        var lease = new Lease(Ip4Net.Parse("198.18.1.0/24"), null, new LeaseAttrs(System.Net.IPAddress.Parse("192.0.2.1")), DateTimeOffset.UtcNow);

        Lease renewed = await store.RenewLeaseAsync(lease, CancellationToken.None);

        Assert.True(renewed.SameDataPath(lease));
        Assert.True(renewed.Expiration > DateTimeOffset.UtcNow.AddHours(23));
    }

    private static async Task<LeaseWatchBatch> NextSnapshotAsync(WatchProbe probe)
    {
        while (true)
        {
            LeaseWatchBatch batch = await probe.NextAsync();
            if (batch.IsSnapshot)
            {
                return batch;
            }
        }
    }

    private async Task WaitForWatchAsync()
    {
        for (int i = 0; i < 100 && _server.ActiveWatches == 0; i++)
        {
            await Task.Delay(20);
        }
    }
}
