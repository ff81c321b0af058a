using System.Diagnostics;
using System.Net;
using System.Text.Json.Nodes;
using Flannel.Core.Config;
using Flannel.Core.Leases;
using Flannel.Core.Net;
using Flanneld.Leases.Kubernetes;
using Flannel.Lab.Kubernetes;
using static Flanneld.Tests.Leases.Kubernetes.KubeTestSupport;

namespace Flanneld.Tests.Leases.Kubernetes;

public sealed class KubeLeaseStoreAcquireTests : IAsyncLifetime
{
    private const string CapturedAnnotations =
        "{\"flannel.alpha.coreos.com/backend-data\":\"{\\\"VNI\\\":1,\\\"VtepMAC\\\":\\\"4a:fe:33:28:ca:bf\\\"}\",\"flannel.alpha.coreos.com/backend-type\":\"vxlan\",\"flannel.alpha.coreos.com/kube-subnet-manager\":\"true\",\"flannel.alpha.coreos.com/public-ip\":\"192.0.2.1\",\"node.alpha.kubernetes.io/ttl\":\"0\"}";

    private static readonly LeaseAttrs VxlanAttrs = new(IPAddress.Parse("192.0.2.1"), null, "vxlan", "{\"VNI\":1,\"VtepMAC\":\"4a:fe:33:28:ca:bf\"}");

    private FakeKubeApiServer _server = null!;

    public async Task InitializeAsync() => _server = await FakeKubeApiServer.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task AcquireLease_NodeWithPodCidr_LeaseIsPodCidr()
    {
        _server.AddNode(FakeKubeApiServer.NodeObject("node1", "198.18.1.0/24"));
        using KubeLeaseStore store = Store(_server, Settings());

        Lease lease = await store.AcquireLeaseAsync(new LeaseRequest(Vxlan, VxlanAttrs), CancellationToken.None);

        Assert.Equal(Ip4Net.Parse("198.18.1.0/24"), lease.Subnet);
        Assert.Null(lease.IPv6Subnet);
        Assert.Equal(VxlanAttrs, lease.Attrs);
        Assert.InRange(lease.Expiration!.Value, DateTimeOffset.UtcNow.AddHours(23.9), DateTimeOffset.UtcNow.AddHours(24.1));
    }

    [Fact]
    public async Task AcquireLease_Vxlan_WritesAnnotationsExactlyAsUpstream()
    {
        JsonObject node = FakeKubeApiServer.NodeObject("node1", "198.18.1.0/24", new Dictionary<string, string> { ["node.alpha.kubernetes.io/ttl"] = "0" });
        _server.AddNode(node);
        using KubeLeaseStore store = Store(_server, Settings());

        await store.AcquireLeaseAsync(new LeaseRequest(Vxlan, VxlanAttrs), CancellationToken.None);

        Assert.Equal(CapturedAnnotations, FakeKubeApiServer.Serialize(_server.GetNode("node1")!["metadata"]!["annotations"]!));
        RecordedRequest patch = Assert.Single(_server.Requests, r => r.Method == "PATCH");
        Assert.Equal("/api/v1/nodes/node1/status", patch.PathAndQuery);
        Assert.Equal("application/strategic-merge-patch+json", patch.ContentType);
    }

    [Fact]
    public async Task AcquireLease_AnnotationsAlreadyCurrent_SendsNoPatch()
    {
        _server.AddNode(FakeKubeApiServer.NodeObject("node1", "198.18.1.0/24", FlannelAnnotations("192.0.2.1")));
        using KubeLeaseStore store = Store(_server, Settings());

        await store.AcquireLeaseAsync(new LeaseRequest(Vxlan, VxlanAttrs), CancellationToken.None);

        Assert.DoesNotContain(_server.Requests, r => r.Method == "PATCH");
    }

    [Fact]
    public async Task AcquireLease_PublicIPOverwrite_AdvertisesOverwriteAddress()
    {
        _server.AddNode(FakeKubeApiServer.NodeObject("node1", "198.18.1.0/24", new Dictionary<string, string> { [Prefix + "public-ip-overwrite"] = "192.0.2.99" }));
        using KubeLeaseStore store = Store(_server, Settings());

        Lease lease = await store.AcquireLeaseAsync(new LeaseRequest(Vxlan, VxlanAttrs), CancellationToken.None);

        Assert.Equal("192.0.2.99", (string?)_server.GetNode("node1")!["metadata"]!["annotations"]![Prefix + "public-ip"]);
        Assert.Equal(IPAddress.Parse("192.0.2.99"), lease.Attrs.PublicIP);
    }

    [Fact]
    public async Task AcquireLease_NodePublicIPAnnotation_UsedWhenNoFlag()
    {
        _server.AddNode(FakeKubeApiServer.NodeObject("node1", "198.18.1.0/24", new Dictionary<string, string> { [Prefix + "node-public-ip"] = "192.0.2.77" }));
        using KubeLeaseStore store = Store(_server, Settings());

        Lease lease = await store.AcquireLeaseAsync(new LeaseRequest(Vxlan, VxlanAttrs), CancellationToken.None);

        Assert.Equal("192.0.2.77", (string?)_server.GetNode("node1")!["metadata"]!["annotations"]![Prefix + "public-ip"]);
        Assert.Equal(IPAddress.Parse("192.0.2.77"), lease.Attrs.PublicIP);
    }

    [Fact]
    public async Task AcquireLease_NoPodCidr_WaitsThenFailsWithUpstreamMessage()
    {
        _server.AddNode(FakeKubeApiServer.NodeObject("node1"));
        using KubeLeaseStore store = Store(_server, Settings());
        var clock = Stopwatch.StartNew();

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => store.AcquireLeaseAsync(new LeaseRequest(Vxlan, VxlanAttrs), CancellationToken.None));

        Assert.Equal("node \"node1\" pod cidr not assigned", error.Message);
        Assert.True(clock.Elapsed >= TimeSpan.FromMilliseconds(550), $"gave up after {clock.Elapsed}");
        Assert.True(_server.Requests.Count(r => r.PathAndQuery == "/api/v1/nodes/node1") >= 2, "polled the node again while waiting");
        Assert.DoesNotContain(_server.Requests, r => r.Method == "PATCH");
    }

    [Fact]
    public async Task AcquireLease_NodeMissing_FailsNamingNotFound()
    {
        using KubeLeaseStore store = Store(_server, Settings("ghost"));

        var error = await Assert.ThrowsAsync<KubeApiException>(() => store.AcquireLeaseAsync(new LeaseRequest(Vxlan, VxlanAttrs), CancellationToken.None));

        Assert.Contains("\"ghost\"", error.Message, StringComparison.Ordinal);
        Assert.Contains("NotFound", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AcquireLease_PodCidrAssignedWhileWaiting_Succeeds()
    {
        _server.AddNode(FakeKubeApiServer.NodeObject("node1"));
        using KubeLeaseStore store = Store(_server, Settings() with { RetryTimeout = TimeSpan.FromSeconds(5) });

        Task<Lease> acquiring = store.AcquireLeaseAsync(new LeaseRequest(Vxlan, VxlanAttrs), CancellationToken.None);
        await Task.Delay(300);
        _server.UpdateNode("node1", n => n["spec"] = new JsonObject { ["podCIDR"] = "198.18.7.0/24", ["podCIDRs"] = new JsonArray("198.18.7.0/24") });

        Assert.Equal(Ip4Net.Parse("198.18.7.0/24"), (await acquiring).Subnet);
    }

    [Fact]
    public async Task AcquireLease_PodCidrOutsideNetwork_FailsNamingBoth()
    {
        _server.AddNode(FakeKubeApiServer.NodeObject("node1", "10.9.1.0/24"));
        using KubeLeaseStore store = Store(_server, Settings());

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => store.AcquireLeaseAsync(new LeaseRequest(Vxlan, VxlanAttrs), CancellationToken.None));

        Assert.Contains("198.18.0.0/16", error.Message, StringComparison.Ordinal);
        Assert.Contains("10.9.1.0/24", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AcquireLease_DualStack_LeaseHasBothSubnetsAndV6Annotations()
    {
        _server.AddNode(FakeKubeApiServer.NodeObject("node1", "198.18.1.0/24", podCidrs: ["198.18.1.0/24", "2001:db8:0:1::/64"]));
        using KubeLeaseStore store = Store(_server, Settings());
        NetConfig config = Vxlan with { EnableIPv6 = true, IPv6Network = Ip6Net.Parse("2001:db8::/48"), IPv6SubnetLen = 64 };
        var attrs = VxlanAttrs with { PublicIPv6 = IPAddress.Parse("2001:db8:ff::1"), BackendV6Data = "{\"VNI\":1,\"VtepMAC\":\"4a:fe:33:28:ca:c0\"}" };

        Lease lease = await store.AcquireLeaseAsync(new LeaseRequest(config, attrs), CancellationToken.None);

        Assert.Equal(Ip4Net.Parse("198.18.1.0/24"), lease.Subnet);
        Assert.Equal(Ip6Net.Parse("2001:db8:0:1::/64"), lease.IPv6Subnet);
        JsonNode annotations = _server.GetNode("node1")!["metadata"]!["annotations"]!;
        Assert.Equal("2001:db8:ff::1", (string?)annotations[Prefix + "public-ipv6"]);
        Assert.Equal("{\"VNI\":1,\"VtepMAC\":\"4a:fe:33:28:ca:c0\"}", (string?)annotations[Prefix + "backend-v6-data"]);
    }

    [Fact]
    public async Task AcquireLease_DualStackIPv6PodCidrFirst_LeaseHasBothSubnets()
    {
        // A controller manager with IPv6 as its primary family lists the IPv6 podCIDR first (and as spec.podCIDR).
        _server.AddNode(FakeKubeApiServer.NodeObject("node1", "2001:db8:0:1::/64", podCidrs: ["2001:db8:0:1::/64", "198.18.1.0/24"]));
        using KubeLeaseStore store = Store(_server, Settings());
        NetConfig config = Vxlan with { EnableIPv6 = true, IPv6Network = Ip6Net.Parse("2001:db8::/48"), IPv6SubnetLen = 64 };
        var attrs = VxlanAttrs with { PublicIPv6 = IPAddress.Parse("2001:db8:ff::1"), BackendV6Data = "{\"VNI\":1,\"VtepMAC\":\"4a:fe:33:28:ca:c0\"}" };

        Lease lease = await store.AcquireLeaseAsync(new LeaseRequest(config, attrs), CancellationToken.None);

        Assert.Equal(Ip4Net.Parse("198.18.1.0/24"), lease.Subnet);
        Assert.Equal(Ip6Net.Parse("2001:db8:0:1::/64"), lease.IPv6Subnet);
    }

    [Fact]
    public async Task AcquireLease_DualStackNodeWithoutIPv6PodCidr_FailsNamingNodeAndPodCidrs()
    {
        _server.AddNode(FakeKubeApiServer.NodeObject("node1", "198.18.1.0/24"));
        using KubeLeaseStore store = Store(_server, Settings());
        NetConfig config = Vxlan with { EnableIPv6 = true, IPv6Network = Ip6Net.Parse("2001:db8::/48"), IPv6SubnetLen = 64 };
        var attrs = VxlanAttrs with { PublicIPv6 = IPAddress.Parse("2001:db8:ff::1"), BackendV6Data = "{\"VNI\":1,\"VtepMAC\":\"4a:fe:33:28:ca:c0\"}" };

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => store.AcquireLeaseAsync(new LeaseRequest(config, attrs), CancellationToken.None));

        Assert.Contains("\"node1\" has no IPv6 pod CIDR", error.Message, StringComparison.Ordinal);
        Assert.Contains("198.18.1.0/24", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetStoredAttrs_IPv6OnlyNodeAskingByPublicIPv6_ReturnsItsBackendV6Data()
    {
        _server.AddNode(FakeKubeApiServer.NodeObject("node1", "2001:db8:0:1::/64"));
        using KubeLeaseStore store = Store(_server, Settings());
        NetConfig config = Vxlan with { EnableIPv4 = false, Network = null, EnableIPv6 = true, IPv6Network = Ip6Net.Parse("2001:db8::/48"), IPv6SubnetLen = 64 };
        var attrs = new LeaseAttrs(IPAddress.Any, IPAddress.Parse("2001:db8:ff::1"), "vxlan", null, "{\"VNI\":1,\"VtepMAC\":\"4a:fe:33:28:ca:c0\"}");
        Lease lease = await store.AcquireLeaseAsync(new LeaseRequest(config, attrs), CancellationToken.None);
        Assert.Null(lease.Subnet);

        LeaseAttrs? stored = await store.GetStoredAttrsAsync(IPAddress.Parse("2001:db8:ff::1"), CancellationToken.None);

        Assert.NotNull(stored);
        Assert.Null(stored.BackendData);
        Assert.Equal("{\"VNI\":1,\"VtepMAC\":\"4a:fe:33:28:ca:c0\"}", stored.BackendV6Data);
        Assert.Equal(IPAddress.Parse("2001:db8:ff::1"), stored.PublicIPv6);
        Assert.Equal(IPAddress.Any, stored.PublicIP);
    }

    [Fact]
    public async Task AcquireLease_NodeNameFromPod_UsesPodSpecNodeName()
    {
        _server.AddNode(FakeKubeApiServer.NodeObject("worker-7", "198.18.7.0/24"));
        _server.AddPod("kube-flannel", "kube-flannel-ds-abcde", "worker-7");
        using KubeLeaseStore store = Store(_server, Settings() with { NodeName = null, PodName = "kube-flannel-ds-abcde", PodNamespace = "kube-flannel" });

        Lease lease = await store.AcquireLeaseAsync(new LeaseRequest(Vxlan, VxlanAttrs), CancellationToken.None);

        Assert.Equal("worker-7", await store.GetNodeNameAsync(CancellationToken.None));
        Assert.Equal(Ip4Net.Parse("198.18.7.0/24"), lease.Subnet);
    }

    [Fact]
    public async Task GetStoredBackendData_AfterAcquire_ReturnsAdvertisedVtepMac()
    {
        _server.AddNode(FakeKubeApiServer.NodeObject("node1", "198.18.1.0/24"));
        using KubeLeaseStore store = Store(_server, Settings());
        Assert.Null((await store.GetStoredBackendDataAsync(CancellationToken.None)).VtepMac);
        await store.AcquireLeaseAsync(new LeaseRequest(Vxlan, VxlanAttrs), CancellationToken.None);

        // A restarted daemon: a new store reads back what the previous one wrote.
        using KubeLeaseStore restarted = Store(_server, Settings());
        StoredBackendData stored = await restarted.GetStoredBackendDataAsync(CancellationToken.None);

        Assert.Equal("vxlan", stored.BackendType);
        Assert.Equal("4a:fe:33:28:ca:bf", stored.VtepMac);
        Assert.Null(stored.V6VtepMac);
    }

    [Fact]
    public async Task SetNetworkAvailable_NodeWithReadyCondition_MergesNetworkUnavailableFalse()
    {
        _server.AddNode(FakeKubeApiServer.NodeObject("node1", "198.18.1.0/24"));
        using KubeLeaseStore store = Store(_server, Settings());

        await store.SetNetworkAvailableAsync(CancellationToken.None);

        JsonArray conditions = _server.GetNode("node1")!["status"]!["conditions"]!.AsArray();
        Assert.Equal(2, conditions.Count);
        JsonNode condition = Assert.Single(conditions, c => (string?)c!["type"] == "NetworkUnavailable")!;
        Assert.Equal("False", (string?)condition["status"]);
        Assert.Equal("FlannelIsUp", (string?)condition["reason"]);
        Assert.Equal("Flannel is running on this node", (string?)condition["message"]);
    }

    [Fact]
    public async Task WatchLeases_SetNodeNetworkUnavailable_SetsConditionOnStart()
    {
        _server.AddNode(FakeKubeApiServer.NodeObject("node1", "198.18.1.0/24"));
        using KubeLeaseStore store = Store(_server, Settings() with { SetNodeNetworkUnavailable = true });
        await using (var probe = new WatchProbe(store))
        {
            await probe.NextAsync();
            for (int i = 0; i < 50 && !_server.Requests.Any(r => r.Method == "PATCH"); i++)
            {
                await Task.Delay(100);
            }
        }

        JsonArray conditions = _server.GetNode("node1")!["status"]!["conditions"]!.AsArray();
        Assert.Contains(conditions, c => (string?)c!["type"] == "NetworkUnavailable" && (string?)c["status"] == "False");
    }

    [Fact]
    public async Task WatchLeases_SetNodeNetworkUnavailableOff_NoConditionPatch()
    {
        _server.AddNode(FakeKubeApiServer.NodeObject("node1", "198.18.1.0/24"));
        using KubeLeaseStore store = Store(_server, Settings());
        await using (var probe = new WatchProbe(store))
        {
            await probe.NextAsync();
            await Task.Delay(300);
        }

        Assert.DoesNotContain(_server.Requests, r => r.Method == "PATCH");
    }

    [Fact]
    public async Task GetNetworkConfig_MissingFile_ErrorNamesPath()
    {
        using KubeLeaseStore store = Store(_server, Settings() with { NetConfigPath = "/nonexistent/fnt-kube/net-conf.json" });

        var error = await Assert.ThrowsAsync<IOException>(() => store.GetNetworkConfigAsync(CancellationToken.None));

        Assert.Contains("/nonexistent/fnt-kube/net-conf.json", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Create_KubeconfigWithToken_AuthenticatesRequests()
    {
        _server.RequiredBearerToken = "fnt-secret-token";
        _server.AddNode(FakeKubeApiServer.NodeObject("node1", "198.18.1.0/24"));
        string kubeconfig = Path.Combine(Path.GetTempPath(), $"fnt-{Guid.NewGuid():N}.kubeconfig");
        await File.WriteAllTextAsync(kubeconfig, $"""
            apiVersion: v1
            kind: Config
            clusters:
            - name: fake
              cluster:
                server: {_server.BaseUri.ToString().TrimEnd('/')}
            users:
            - name: flannel
              user:
                token: fnt-secret-token
            contexts:
            - name: fake
              context:
                cluster: fake
                user: flannel
            current-context: fake
            """);
        try
        {
            var options = new Flanneld.Options.FlanneldOptions { KubeSubnetMgr = true, KubeconfigFile = kubeconfig };
            using KubeLeaseStore store = KubeLeaseStore.Create(options, new CapturingLogger(), name => name == "NODE_NAME" ? "node1" : null);

            Lease lease = await store.AcquireLeaseAsync(new LeaseRequest(Vxlan, VxlanAttrs), CancellationToken.None);

            Assert.Equal(Ip4Net.Parse("198.18.1.0/24"), lease.Subnet);
            Assert.Contains(_server.Requests, r => r.Method == "PATCH");
        }
        finally
        {
            File.Delete(kubeconfig);
        }
    }

    [Fact]
    public void SettingsFrom_BadEventQueueDepth_ErrorNamesVariable()
    {
        var error = Assert.Throws<ConfigException>(() => KubeLeaseStore.SettingsFrom(new Flanneld.Options.FlanneldOptions(), name => name switch
        {
            "NODE_NAME" => "node1",
            "EVENT_QUEUE_DEPTH" => "lots",
            _ => null,
        }));

        Assert.Contains("EVENT_QUEUE_DEPTH=lots", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void SettingsFrom_NoNodeNameNorPod_FailsAsUpstream()
    {
        var error = Assert.Throws<ConfigException>(() => KubeLeaseStore.SettingsFrom(new Flanneld.Options.FlanneldOptions(), _ => null));

        Assert.Contains("POD_NAME and POD_NAMESPACE must be set", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("flannel.alpha.coreos.com", "flannel.alpha.coreos.com/")]
    [InlineData("example.org/flannel", "example.org/flannel")]
    public void KubeAnnotations_ValidPrefix_NamesAnnotations(string prefix, string expected)
    {
        KubeAnnotations names = KubeAnnotations.Create(prefix);

        Assert.Equal(expected, names.Prefix);
        Assert.Equal(expected + "backend-data", names.BackendData);
    }

    [Theory]
    [InlineData("a/b/c")]
    [InlineData("Not_A_Domain")]
    [InlineData("example.org/UPPER")]
    public void KubeAnnotations_InvalidPrefix_ErrorNamesFlag(string prefix)
    {
        var error = Assert.Throws<ConfigException>(() => KubeAnnotations.Create(prefix));

        Assert.Contains("--kube-annotation-prefix=" + prefix, error.Message, StringComparison.Ordinal);
    }

}
