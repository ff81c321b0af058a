using System.Text;
using Flannel.Core.Config;

namespace Flannel.Cni.Tests;

public class DelegateConfigTests
{
    private const string Ipv4Env = "FLANNEL_NETWORK=10.1.0.0/16\nFLANNEL_SUBNET=10.1.17.1/24\nFLANNEL_MTU=1472\nFLANNEL_IPMASQ=true\n";
    private const string Ipv6Env = "FLANNEL_IPV6_NETWORK=fc00::/48\nFLANNEL_IPV6_SUBNET=fc00::1/64\nFLANNEL_MTU=1472\nFLANNEL_IPMASQ=true\n";
    private const string DualEnv = "FLANNEL_NETWORK=10.1.0.0/16\nFLANNEL_SUBNET=10.1.17.1/24\nFLANNEL_IPV6_NETWORK=fc00::/48\nFLANNEL_IPV6_SUBNET=fc00::1/64\nFLANNEL_MTU=1472\nFLANNEL_IPMASQ=true\n";
    private const string TwoNetworksEnv = "FLANNEL_NETWORK=10.1.0.0/16,192.168.0.0/16\nFLANNEL_SUBNET=10.1.17.1/24\nFLANNEL_MTU=1472\nFLANNEL_IPMASQ=true\n";
    private const string UpstreamInput = """{"name":"cni-flannel","type":"flannel","subnetFile":"/x","dataDir":"/y"}""";

    private static string Render(string conf, string env, string? delegateVersion = null) =>
        Encoding.UTF8.GetString(DelegateConfig.Render(NetConf.Parse(Encoding.UTF8.GetBytes(conf)), SubnetEnvFile.Parse(env), delegateVersion));

    [Fact]
    public void Render_Ipv4_MatchesUpstreamTest()
    {
        Assert.Equal(
            """{"ipMasq":false,"ipam":{"ranges":[[{"subnet":"10.1.17.0/24"}]],"routes":[{"dst":"10.1.0.0/16"}],"type":"host-local"},"isGateway":true,"mtu":1472,"name":"cni-flannel","type":"bridge"}""",
            Render(UpstreamInput, Ipv4Env));
    }

    [Fact]
    public void Render_TwoIpv4Networks_RoutesToBoth()
    {
        Assert.Equal(
            """{"ipMasq":false,"ipam":{"ranges":[[{"subnet":"10.1.17.0/24"}]],"routes":[{"dst":"10.1.0.0/16"},{"dst":"192.168.0.0/16"}],"type":"host-local"},"isGateway":true,"mtu":1472,"name":"cni-flannel","type":"bridge"}""",
            Render(UpstreamInput, TwoNetworksEnv));
    }

    [Fact]
    public void Render_Ipv6_MatchesUpstreamTest()
    {
        Assert.Equal(
            """{"ipMasq":false,"ipam":{"ranges":[[{"subnet":"fc00::/64"}]],"routes":[{"dst":"fc00::/48"}],"type":"host-local"},"isGateway":true,"mtu":1472,"name":"cni-flannel","type":"bridge"}""",
            Render(UpstreamInput, Ipv6Env));
    }

    [Fact]
    public void Render_DualStack_RangePerFamilyV4First()
    {
        Assert.Equal(
            """{"ipMasq":false,"ipam":{"ranges":[[{"subnet":"10.1.17.0/24"}],[{"subnet":"fc00::/64"}]],"routes":[{"dst":"10.1.0.0/16"},{"dst":"fc00::/48"}],"type":"host-local"},"isGateway":true,"mtu":1472,"name":"cni-flannel","type":"bridge"}""",
            Render(UpstreamInput, DualEnv));
    }

    [Fact]
    public void Render_LabCapture_ByteIdenticalToUpstream()
    {
        // upstream-captures/vxlan.txt: the configuration upstream's plugin saved in dataDir/<containerID>.
        const string conf = """
            {"cniVersion":"1.0.0","name":"lab-node1","type":"flannel","subnetFile":"/run/lab/node1/subnet.env",
             "dataDir":"/run/lab/node1/cni","ipam":{"dataDir":"/run/lab/node1/ipam"},
             "delegate":{"hairpinMode":true,"isDefaultGateway":true}}
            """;
        const string env = "FLANNEL_NETWORK=198.18.0.0/16\nFLANNEL_SUBNET=198.18.30.1/24\nFLANNEL_MTU=1450\nFLANNEL_IPMASQ=true\n";
        Assert.Equal(
            """{"cniVersion":"1.0.0","hairpinMode":true,"ipMasq":false,"ipam":{"dataDir":"/run/lab/node1/ipam","ranges":[[{"subnet":"198.18.30.0/24"}]],"routes":[{"dst":"198.18.0.0/16"}],"type":"host-local"},"isDefaultGateway":true,"isGateway":true,"mtu":1450,"name":"lab-node1","type":"bridge"}""",
            Render(conf, env));
    }

    [Fact]
    public void Render_InputIpam_KeepsTypeUnknownKeysAndRoutesBeforeNetworks()
    {
        const string conf = """
            {"name":"cni-flannel","type":"flannel","ipam":{"type":"my-ipam","unknown-param":"unknown-value",
             "routes":[{ "dst": "10.96.0.0/12" },{ "dst": "192.168.244.0/24", "gw": "10.1.17.20" }]}}
            """;
        Assert.Equal(
            """{"ipMasq":false,"ipam":{"ranges":[[{"subnet":"10.1.17.0/24"}]],"routes":[{"dst":"10.96.0.0/12"},{"dst":"192.168.244.0/24","gw":"10.1.17.20"},{"dst":"10.1.0.0/16"}],"type":"my-ipam","unknown-param":"unknown-value"},"isGateway":true,"mtu":1472,"name":"cni-flannel","type":"bridge"}""",
            Render(conf, Ipv4Env));
    }

    [Fact]
    public void Render_InputIpamWithoutType_DefaultsToHostLocalAndReplacesRanges()
    {
        const string conf = """{"name":"n","ipam":{"ranges":[[{"subnet":"10.9.0.0/24"}]],"routes":[{"dst":"10.96.0.0/12"}]}}""";
        Assert.Equal(
            """{"ipMasq":false,"ipam":{"ranges":[[{"subnet":"10.1.17.0/24"}]],"routes":[{"dst":"10.96.0.0/12"},{"dst":"10.1.0.0/16"}],"type":"host-local"},"isGateway":true,"mtu":1472,"name":"n","type":"bridge"}""",
            Render(conf, Ipv4Env));
    }

    [Fact]
    public void Render_DelegateSetsIpMasqMtuIsGateway_TheyWin()
    {
        const string conf = """{"name":"n","delegate":{"ipMasq":true,"mtu":1400,"isGateway":false}}""";
        Assert.Equal(
            """{"ipMasq":true,"ipam":{"ranges":[[{"subnet":"10.1.17.0/24"}]],"routes":[{"dst":"10.1.0.0/16"}],"type":"host-local"},"isGateway":false,"mtu":1400,"name":"n","type":"bridge"}""",
            Render(conf, Ipv4Env));
    }

    [Fact]
    public void Render_IpMasqFalseInSubnetEnv_DelegateMasquerades()
    {
        string env = Ipv4Env.Replace("FLANNEL_IPMASQ=true", "FLANNEL_IPMASQ=false", StringComparison.Ordinal);
        Assert.Contains("\"ipMasq\":true", Render(UpstreamInput, env), StringComparison.Ordinal);
    }

    [Fact]
    public void Render_NonBridgeDelegate_NoIsGateway()
    {
        Assert.Equal(
            """{"ipMasq":false,"ipam":{"ranges":[[{"subnet":"10.1.17.0/24"}]],"routes":[{"dst":"10.1.0.0/16"}],"type":"host-local"},"mtu":1472,"name":"n","type":"ipvlan"}""",
            Render("""{"name":"n","delegate":{"type":"ipvlan"}}""", Ipv4Env));
    }

    [Fact]
    public void Render_RuntimeConfigAndNestedDelegateMaps_CopiedWithSortedKeys()
    {
        const string conf = """{"cniVersion":"0.3.1","name":"n","runtimeConfig":{"z":1,"a":{"y":"<&>","b":[3,1.5]}},"delegate":{"vlan":0}}""";
        Assert.Equal(
            """{"cniVersion":"0.3.1","ipMasq":false,"ipam":{"ranges":[[{"subnet":"10.1.17.0/24"}]],"routes":[{"dst":"10.1.0.0/16"}],"type":"host-local"},"isGateway":true,"mtu":1472,"name":"n","runtimeConfig":{"a":{"b":[3,1.5],"y":"\u003c\u0026\u003e"},"z":1},"type":"bridge","vlan":0}""",
            Render(conf, Ipv4Env));
    }

    [Fact]
    public void Render_DelegateVersionGiven_ReplacesRequestedVersion()
    {
        Assert.StartsWith("{\"cniVersion\":\"1.0.0\",", Render("""{"cniVersion":"1.1.0","name":"n"}""", Ipv4Env, "1.0.0"), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{"name":"n","delegate":{"name":"x"}}""", 2, "must not have 'name'")]
    [InlineData("""{"name":"n","delegate":{"ipam":{}}}""", 2, "must not have 'ipam'")]
    [InlineData("""{"name":"n","delegate":{"type":7}}""", 7, "(string) 'type'")]
    [InlineData("""{"name":"n","ipam":{"routes":[{"dst":"nope"}]}}""", 7, "ipam.routes[0].dst must be a CIDR, not \"nope\"")]
    [InlineData("""{"name":"n","ipam":{"routes":{"dst":"10.0.0.0/8"}}}""", 7, "ipam.routes must be a list")]
    public void Render_BadDelegateOrIpam_RejectedNamingTheField(string conf, int code, string message)
    {
        CniException e = Assert.Throws<CniException>(() => Render(conf, Ipv4Env));
        Assert.Equal(code, e.Code);
        Assert.Contains(message, e.Message + " " + e.Details, StringComparison.Ordinal);
    }
}
