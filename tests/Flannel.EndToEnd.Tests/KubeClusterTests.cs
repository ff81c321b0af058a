using System.Text.Json.Nodes;
using Flannel.Lab;
using Flannel.Lab.Kubernetes;

namespace Flannel.EndToEnd.Tests;

/// <summary>A lab cluster in Kubernetes mode: flanneld on every node with --kube-subnet-mgr against the fake API server.</summary>
public abstract class KubeClusterFixture : ClusterFixture
{
    private KubeLabCluster? _kube;

    public KubeLabCluster Kube => _kube ?? throw new InvalidOperationException("cluster not started");

    protected override int PodsPerNode => 1;

    /// <summary>Whether the Nodes get only their IPv6 podCIDR (an IPv6-only cluster).</summary>
    protected virtual bool IPv6OnlyPodCidrs => false;

    protected override async Task<LabCluster> CreateClusterAsync(LabOptions options)
    {
        _kube = await KubeLabCluster.CreateAsync(options, IPv6OnlyPodCidrs);
        return _kube.Cluster;
    }

    protected override void StartFlanneld(LabNode node) => Kube.StartFlanneld(node);

    protected override ValueTask DisposeClusterAsync(LabCluster cluster) => _kube is null ? cluster.DisposeAsync() : _kube.DisposeAsync();

    /// <summary>The metadata.annotations of <paramref name="node"/>'s Node object, as the API server holds them now.</summary>
    public SortedDictionary<string, string> AnnotationsOf(LabNode node)
    {
        ArgumentNullException.ThrowIfNull(node);
        var result = new SortedDictionary<string, string>(StringComparer.Ordinal);
        if (Kube.Api.GetNode(node.Name)?["metadata"]?["annotations"] is JsonObject annotations)
        {
            foreach ((string key, JsonNode? value) in annotations)
            {
                result[key] = (string?)value ?? "";
            }
        }

        return result;
    }
}

public sealed class KubeVxlanFixture : KubeClusterFixture
{
    protected override string Backend => """{"Type":"vxlan"}""";
}

public sealed class KubeHostGwFixture : KubeClusterFixture
{
    protected override string Backend => """{"Type":"host-gw"}""";
}

/// <summary>What every backend must show in Kubernetes mode; the backend-specific parts come from the subclasses.</summary>
public abstract class KubeClusterTests<TFixture>(TFixture fixture)
    where TFixture : KubeClusterFixture
{
    private const string Prefix = "flannel.alpha.coreos.com/";

    protected abstract string BackendType { get; }

    /// <summary>The backend-data annotation upstream writes for <paramref name="node"/>.</summary>
    protected abstract Task<string> ExpectedBackendDataAsync(LabNode node);

    [Fact]
    public void SubnetEnv_EveryNode_HasItsPodCidr()
    {
        foreach ((LabNode node, Flannel.Core.Config.SubnetEnv env) in fixture.Env)
        {
            string podCidr = KubeLabCluster.PodCidrOf(node);
            Assert.Equal(podCidr, env.Subnet?.ToString());
            Assert.Contains("FLANNEL_SUBNET=" + podCidr.Replace(".0/24", ".1/24", StringComparison.Ordinal) + "\n", File.ReadAllText(node.SubnetFile), StringComparison.Ordinal);
            Assert.Equal("198.18.0.0/16", Assert.Single(env.Networks).ToString());
        }
    }

    [Fact]
    public async Task Node_Annotations_AsUpstream()
    {
        foreach (LabNode node in fixture.Env.Keys)
        {
            var expected = new SortedDictionary<string, string>(StringComparer.Ordinal)
            {
                [Prefix + "backend-data"] = await ExpectedBackendDataAsync(node),
                [Prefix + "backend-type"] = BackendType,
                [Prefix + "kube-subnet-manager"] = "true",
                [Prefix + "public-ip"] = node.Address,
            };
            SortedDictionary<string, string>? actual = null;
            bool matched = await KernelView.EventuallyAsync(() =>
            {
                actual = fixture.AnnotationsOf(node);
                return Task.FromResult(expected.SequenceEqual(actual));
            }, TimeSpan.FromSeconds(10));
            Assert.True(matched, $"{node.Name}: annotations {string.Join(", ", actual ?? [])}\n{node.Flanneld?.ReadLog()}");
        }
    }

    [Fact]
    public async Task Node_NetworkUnavailableFalse_FlannelIsUp()
    {
        foreach (LabNode node in fixture.Env.Keys)
        {
            JsonNode? condition = null;
            bool set = await KernelView.EventuallyAsync(() =>
            {
                condition = fixture.Kube.Api.GetNode(node.Name)?["status"]?["conditions"]?.AsArray()
                    .FirstOrDefault(c => (string?)c?["type"] == "NetworkUnavailable");
                return Task.FromResult(condition is not null);
            }, TimeSpan.FromSeconds(10));
            Assert.True(set, $"{node.Name} has no NetworkUnavailable condition:\n{node.Flanneld?.ReadLog()}");
            Assert.Equal("False", (string?)condition!["status"]);
            Assert.Equal("FlannelIsUp", (string?)condition["reason"]);
            Assert.Equal("Flannel is running on this node", (string?)condition["message"]);
        }
    }

    [Fact]
    public async Task Pods_EveryPodPingsEveryPodOnOtherNodes()
    {
        await fixture.WaitForPeerRoutesAsync(TimeSpan.FromSeconds(10));
        Assert.Empty(await fixture.CrossNodePingFailuresAsync());
    }

    [Fact]
    public async Task NodeDeletedFromApi_DisappearsFromOtherNodesRoutes()
    {
        await fixture.WaitForPeerRoutesAsync(TimeSpan.FromSeconds(10));
        LabNode extra = await fixture.Kube.AddNodeAsync();
        fixture.Kube.StartFlanneld(extra);
        await extra.WaitForSubnetEnvAsync(TimeSpan.FromSeconds(30));
        string subnet = KubeLabCluster.PodCidrOf(extra);
        foreach (LabNode node in fixture.Env.Keys)
        {
            Assert.True(
                await KernelView.EventuallyAsync(async () => (await KernelView.RoutesAsync(node)).Any(r => r.Dst == subnet), TimeSpan.FromSeconds(10)),
                $"{node.Name} never got a route to the added {extra.Name}'s {subnet}:\n{await node.IpAsync("route")}");
        }

        fixture.Kube.Api.DeleteNode(extra.Name);
        await extra.Flanneld!.StopAsync(TimeSpan.FromSeconds(5));
        foreach (LabNode node in fixture.Env.Keys)
        {
            Assert.True(
                await KernelView.EventuallyAsync(async () => (await KernelView.RoutesAsync(node)).All(r => r.Dst != subnet), TimeSpan.FromSeconds(10)),
                $"{node.Name} still routes {subnet} after {extra.Name} was deleted:\n{await node.IpAsync("route")}\n{node.Flanneld?.ReadLog()}");
        }
    }
}

public sealed class KubeVxlanClusterTests(KubeVxlanFixture fixture) : KubeClusterTests<KubeVxlanFixture>(fixture), IClassFixture<KubeVxlanFixture>
{
    protected override string BackendType => "vxlan";

    /// <summary>VNI 1 and the MAC of the node's own flannel.1, as upstream's vxlan backend advertises.</summary>
    protected override async Task<string> ExpectedBackendDataAsync(LabNode node)
    {
        JsonNode link = await KernelView.LinkAsync(node, "flannel.1") ?? throw new InvalidOperationException($"{node.Name} has no flannel.1");
        return $$"""{"VNI":1,"VtepMAC":"{{(string?)link["address"]}}"}""";
    }
}

public sealed class KubeHostGwClusterTests(KubeHostGwFixture fixture) : KubeClusterTests<KubeHostGwFixture>(fixture), IClassFixture<KubeHostGwFixture>
{
    protected override string BackendType => "host-gw";

    /// <summary>host-gw has no backend data: upstream marshals the nil RawMessage as null.</summary>
    protected override Task<string> ExpectedBackendDataAsync(LabNode node) => Task.FromResult("null");
}
