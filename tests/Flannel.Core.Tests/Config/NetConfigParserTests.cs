using Flannel.Core.Config;
using Flannel.Core.Net;

namespace Flannel.Core.Tests.Config;

public class NetConfigParserTests
{
    // Upstream pkg/subnet/config_test.go TestConfigDefaults.
    [Fact]
    public void Parse_UpstreamConfigDefaults_AppliesDefaults()
    {
        NetConfig config = NetConfigParser.Parse("""{ "network": "10.3.0.0/16" }""");

        Assert.Equal("10.3.0.0/16", config.Network.ToString());
        Assert.Equal("10.3.1.0", Ip4.Format(config.SubnetMin));
        Assert.Equal("10.3.255.0", Ip4.Format(config.SubnetMax));
        Assert.Equal(24, config.SubnetLen);
        Assert.True(config.EnableIPv4);
        Assert.False(config.EnableIPv6);
        Assert.False(config.EnableNFTables);
    }

    // Upstream TestIPv6ConfigDefaults.
    [Fact]
    public void Parse_UpstreamIPv6ConfigDefaults_AppliesDefaults()
    {
        NetConfig config = NetConfigParser.Parse("""{ "enableIPv6": true, "ipv6Network": "fc00::/48", "enableIPv4": false }""");

        Assert.Equal("fc00::/48", config.IPv6Network.ToString());
        Assert.Equal("fc00:0:0:1::", Ip6.Format(config.IPv6SubnetMin));
        Assert.Equal("fc00:0:0:ffff::", Ip6.Format(config.IPv6SubnetMax));
        Assert.Equal(64, config.IPv6SubnetLen);
        Assert.False(config.EnableIPv4);
        Assert.Null(config.Network);
    }

    // Upstream TestConfigOverrides.
    [Fact]
    public void Parse_UpstreamConfigOverrides_KeepsGivenValues()
    {
        NetConfig config = NetConfigParser.Parse("""{ "Network": "10.3.0.0/16", "SubnetMin": "10.3.5.0", "SubnetMax": "10.3.8.0", "SubnetLen": 28 }""");

        Assert.Equal("10.3.0.0/16", config.Network.ToString());
        Assert.Equal("10.3.5.0", Ip4.Format(config.SubnetMin));
        Assert.Equal("10.3.8.0", Ip4.Format(config.SubnetMax));
        Assert.Equal(28, config.SubnetLen);
    }

    // Upstream TestIPv6ConfigOverrides.
    [Fact]
    public void Parse_UpstreamIPv6ConfigOverrides_KeepsGivenValues()
    {
        NetConfig config = NetConfigParser.Parse("""{ "EnableIPv6": true, "IPv6Network": "fc00::/48", "IPv6SubnetMin": "fc00:0:0:1::", "IPv6SubnetMax": "fc00:0:0:f::", "IPv6SubnetLen": 124, "enableIPv4": false }""");

        Assert.Equal("fc00::/48", config.IPv6Network.ToString());
        Assert.Equal("fc00:0:0:1::", Ip6.Format(config.IPv6SubnetMin));
        Assert.Equal("fc00:0:0:f::", Ip6.Format(config.IPv6SubnetMax));
        Assert.Equal(124, config.IPv6SubnetLen);
    }

    [Theory]
    [InlineData("10.0.0.0/8", 24, "10.0.1.0", "10.255.255.0")]
    [InlineData("198.18.0.0/22", 24, "198.18.1.0", "198.18.3.0")]
    [InlineData("198.18.0.0/23", 25, "198.18.0.128", "198.18.1.128")]
    [InlineData("198.18.0.0/26", 28, "198.18.0.16", "198.18.0.48")]
    [InlineData("198.18.0.0/28", 30, "198.18.0.4", "198.18.0.12")]
    [InlineData("128.0.0.0/1", 24, "128.0.1.0", "255.255.255.0")]
    public void Parse_NoSubnetLen_DefaultsAsUpstream(string network, int subnetLen, string min, string max)
    {
        NetConfig config = NetConfigParser.Parse($$"""{"Network": "{{network}}"}""");

        Assert.Equal(subnetLen, config.SubnetLen);
        Assert.Equal(min, Ip4.Format(config.SubnetMin));
        Assert.Equal(max, Ip4.Format(config.SubnetMax));
    }

    [Theory]
    [InlineData("2001:db8::/32", 64, "2001:db8:0:1::", "2001:db8:ffff:ffff::")]
    [InlineData("2001:db8::/62", 64, "2001:db8:0:1::", "2001:db8:0:3::")]
    [InlineData("2001:db8::/63", 65, "2001:db8:0:0:8000::", "2001:db8:0:1:8000::")]
    [InlineData("2001:db8::/124", 126, "2001:db8::4", "2001:db8::c")]
    [InlineData("ff00::/8", 64, "ff00:0:0:1::", "ffff:ffff:ffff:ffff::")]
    public void Parse_NoIPv6SubnetLen_DefaultsAsUpstream(string network, int subnetLen, string min, string max)
    {
        NetConfig config = NetConfigParser.Parse($$"""{"EnableIPv4": false, "EnableIPv6": true, "IPv6Network": "{{network}}"}""");

        Assert.Equal(subnetLen, config.IPv6SubnetLen);
        Assert.Equal(min, Ip6.Format(config.IPv6SubnetMin));
        Assert.Equal(max, Ip6.Format(config.IPv6SubnetMax));
    }

    [Fact]
    public void Parse_DualStack_FillsBothFamilies()
    {
        NetConfig config = NetConfigParser.Parse("""
            {"Network": "198.18.0.0/16", "EnableIPv6": true, "IPv6Network": "2001:db8:1::/48", "EnableNFTables": true,
             "Backend": {"Type": "vxlan", "VNI": 4}}
            """);

        Assert.Equal(24, config.SubnetLen);
        Assert.Equal(64, config.IPv6SubnetLen);
        Assert.Equal("2001:db8:1:1::", Ip6.Format(config.IPv6SubnetMin));
        Assert.True(config.EnableNFTables);
        Assert.Equal("vxlan", config.BackendType);
        Assert.Equal("""{"Type": "vxlan", "VNI": 4}""", config.Backend);
    }

    [Fact]
    public void Parse_NetworkWithHostBits_IsCanonicalised()
    {
        NetConfig config = NetConfigParser.Parse("""{"Network": "198.18.7.9/16", "EnableIPv6": true, "IPv6Network": "2001:db8::5/48"}""");

        Assert.Equal(new Ip4Net(Ip4.Parse("198.18.0.0"), 16), config.Network);
        Assert.Equal("2001:db8::/48", config.IPv6Network.ToString());
        Assert.Equal("198.18.1.0", Ip4.Format(config.SubnetMin));
    }

    // Upstream's code defaults to udp; its documentation and manifests to vxlan. Flannel.NET follows the documentation.
    [Fact]
    public void Parse_NoBackend_DefaultsToVxlanAsUpstreamDocumentationSays()
    {
        NetConfig config = NetConfigParser.Parse("""{"Network": "198.18.0.0/16"}""");

        Assert.Equal("vxlan", config.BackendType);
        Assert.Equal(NetConfig.DefaultBackendType, config.BackendType);
        Assert.Equal("{}", config.Backend);
    }

    [Theory]
    [InlineData("vxlan", "vxlan")]
    [InlineData("VXLAN", "vxlan")]
    [InlineData("Host-GW", "host-gw")]
    [InlineData("udp", "udp")]
    [InlineData("Alloc", "alloc")]
    public void Parse_BackendType_MatchesCaseInsensitivelyAndIsStoredLowerCase(string type, string expected)
    {
        NetConfig config = NetConfigParser.Parse($$$"""{"Network": "198.18.0.0/16", "backend": {"tYPE": "{{{type}}}", "Port": 1}}""");

        Assert.Equal(expected, config.BackendType);
        Assert.Equal($$"""{"tYPE": "{{type}}", "Port": 1}""", config.Backend);
    }

    [Fact]
    public void Parse_KeysInAnyCase_AreRecognised()
    {
        NetConfig config = NetConfigParser.Parse("""
            {"NETWORK": "198.18.0.0/16", "subnetlen": 26, "sUbNeTmIn": "198.18.0.64", "SUBNETMAX": "198.18.1.0",
             "enableipv6": true, "IPV6NETWORK": "2001:db8::/48", "ipv6subnetlen": 80, "enablenftables": true}
            """);

        Assert.Equal(26, config.SubnetLen);
        Assert.Equal("198.18.0.64", Ip4.Format(config.SubnetMin));
        Assert.Equal("198.18.1.0", Ip4.Format(config.SubnetMax));
        Assert.True(config.EnableIPv6);
        Assert.Equal(80, config.IPv6SubnetLen);
        Assert.True(config.EnableNFTables);
    }

    // Go folds KELVIN SIGN onto k and LONG S onto s when matching keys; so does the parser.
    [Fact]
    public void Parse_KeysWithGoUnicodeFolding_AreRecognised()
    {
        NetConfig config = NetConfigParser.Parse("{\"\u017Fubnetlen\": 26, \"Network\": \"198.18.0.0/16\", \"Bac\u212Aend\": {\"Type\": \"udp\"}}");

        Assert.Equal(26, config.SubnetLen);
        Assert.Equal("udp", config.BackendType);
    }

    [Fact]
    public void Parse_UnknownKeys_AreIgnored()
    {
        NetConfig config = NetConfigParser.Parse("""{"Network": "198.18.0.0/16", "Networks": [1, 2], "BackendType": "udp", "Comment": {"a": null}}""");

        Assert.Equal("vxlan", config.BackendType);
        Assert.Equal(24, config.SubnetLen);
    }

    [Fact]
    public void Parse_RepeatedKey_LastValueWins()
    {
        NetConfig config = NetConfigParser.Parse("""{"Network": "10.0.0.0/8", "network": "198.18.0.0/16"}""");

        Assert.Equal("198.18.0.0/16", config.Network.ToString());
    }

    [Fact]
    public void Parse_NullForScalarKeys_LeavesDefaults()
    {
        NetConfig config = NetConfigParser.Parse("""{"Network": "198.18.0.0/16", "EnableIPv4": null, "SubnetLen": null, "EnableIPv6": null, "IPv6SubnetMin": null}""");

        Assert.True(config.EnableIPv4);
        Assert.Equal(24, config.SubnetLen);
    }

    [Fact]
    public void Parse_ZeroSubnetMinAndLen_MeanUnsetAsUpstream()
    {
        NetConfig config = NetConfigParser.Parse("""{"Network": "198.18.0.0/16", "SubnetLen": 0, "SubnetMin": "0.0.0.0", "SubnetMax": ""}""");

        Assert.Equal(24, config.SubnetLen);
        Assert.Equal("198.18.1.0", Ip4.Format(config.SubnetMin));
        Assert.Equal("198.18.255.0", Ip4.Format(config.SubnetMax));
    }

    [Fact]
    public void Parse_IPv4Disabled_IgnoresIPv4Range()
    {
        NetConfig config = NetConfigParser.Parse("""{"EnableIPv4": false, "SubnetMin": "203.0.113.7", "EnableIPv6": true, "IPv6Network": "2001:db8::/48"}""");

        Assert.Null(config.Network);
        Assert.Equal(0, config.SubnetLen);
    }

    // Kubernetes mode only decodes: a network too small for etcd-mode allocation is fine there.
    [Fact]
    public void Decode_SmallNetwork_IsAcceptedWithoutDefaults()
    {
        NetConfig config = NetConfigParser.Decode("""{"Network": "198.18.0.0/30", "Backend": {"Type": "host-gw"}}""");

        Assert.Equal("198.18.0.0/30", config.Network.ToString());
        Assert.Equal(0, config.SubnetLen);
        Assert.Equal(0u, config.SubnetMin);
        Assert.Equal("host-gw", config.BackendType);
    }

    [Fact]
    public void Check_DecodedConfig_EqualsParse()
    {
        const string json = """{"Network": "198.18.0.0/16", "SubnetLen": 20}""";

        Assert.Equal(NetConfigParser.Parse(json), NetConfigParser.Check(NetConfigParser.Decode(json)));
    }

    [Theory]
    // CheckNetworkConfig, IPv4.
    [InlineData("{}", "Network", "net-conf: Network \"\": please define a correct Network parameter in the flannel config")]
    [InlineData("""{"Network": ""}""", "Network", "net-conf: Network \"\": please define a correct Network parameter in the flannel config")]
    [InlineData("""{"Network": "0.0.0.0/0"}""", "Network", "net-conf: Network 0.0.0.0/0: please define a correct Network parameter in the flannel config")]
    [InlineData("""{"Network": "198.18.0.0/16", "SubnetLen": 31}""", "SubnetLen", "net-conf: SubnetLen 31: SubnetLen must be less than /31")]
    [InlineData("""{"Network": "198.18.0.0/16", "SubnetLen": 17}""", "SubnetLen", "net-conf: SubnetLen 17: network must be able to accommodate at least four subnets")]
    [InlineData("""{"Network": "198.18.0.0/29"}""", "Network", "net-conf: Network 198.18.0.0/29: network is too small. Minimum useful network prefix is /28")]
    [InlineData("""{"Network": "198.18.0.0/16", "SubnetMin": "198.19.0.0"}""", "SubnetMin", "net-conf: SubnetMin 198.19.0.0: SubnetMin is not in the range of the Network")]
    [InlineData("""{"Network": "198.18.0.0/16", "SubnetMax": "10.0.0.0"}""", "SubnetMax", "net-conf: SubnetMax 10.0.0.0: SubnetMax is not in the range of the Network")]
    [InlineData("""{"Network": "198.18.0.0/16", "SubnetMin": "198.18.0.5"}""", "SubnetMin", "net-conf: SubnetMin 198.18.0.5 is not on a SubnetLen boundary")]
    [InlineData("""{"Network": "198.18.0.0/16", "SubnetMax": "198.18.3.128"}""", "SubnetMax", "net-conf: SubnetMax 198.18.3.128 is not on a SubnetLen boundary")]
    [InlineData("""{"Network": "198.18.0.0/16", "SubnetMin": "198.18.9.0", "SubnetMax": "198.18.8.0"}""", "SubnetMin", "net-conf: SubnetMin 198.18.9.0 is above SubnetMax 198.18.8.0")]
    [InlineData("""{"Network": "198.18.0.0/16", "SubnetMax": "198.18.0.0"}""", "SubnetMin", "net-conf: SubnetMin 198.18.1.0 is above SubnetMax 198.18.0.0")]
    // CheckNetworkConfig, IPv6.
    [InlineData("""{"EnableIPv4": false, "EnableIPv6": true}""", "IPv6Network", "net-conf: IPv6Network \"\": please define a correct IPv6Network parameter in the flannel config")]
    [InlineData("""{"EnableIPv4": false, "EnableIPv6": true, "IPv6Network": "::/0"}""", "IPv6Network", "net-conf: IPv6Network ::/0: please define a correct IPv6Network parameter")]
    [InlineData("""{"EnableIPv4": false, "EnableIPv6": true, "IPv6Network": "2001:db8::/48", "IPv6SubnetLen": 127}""", "IPv6SubnetLen", "net-conf: IPv6SubnetLen 127: SubnetLen must be less than /127")]
    [InlineData("""{"EnableIPv4": false, "EnableIPv6": true, "IPv6Network": "2001:db8::/48", "IPv6SubnetLen": 49}""", "IPv6SubnetLen", "net-conf: IPv6SubnetLen 49: network must be able to accommodate at least four subnets")]
    [InlineData("""{"EnableIPv4": false, "EnableIPv6": true, "IPv6Network": "2001:db8::/125"}""", "IPv6Network", "net-conf: IPv6Network 2001:db8::/125: IPv6Network is too small. Minimum useful network prefix is /124")]
    [InlineData("""{"EnableIPv4": false, "EnableIPv6": true, "IPv6Network": "2001:db8::/48", "IPv6SubnetMin": "2001:db9::"}""", "IPv6SubnetMin", "net-conf: IPv6SubnetMin 2001:db9::: IPv6SubnetMin is not in the range of the IPv6Network")]
    [InlineData("""{"EnableIPv4": false, "EnableIPv6": true, "IPv6Network": "2001:db8::/48", "IPv6SubnetMax": "2001:db9::"}""", "IPv6SubnetMax", "net-conf: IPv6SubnetMax 2001:db9::: IPv6SubnetMax is not in the range of the IPv6Network")]
    [InlineData("""{"EnableIPv4": false, "EnableIPv6": true, "IPv6Network": "2001:db8::/48", "IPv6SubnetMin": "2001:db8:0:1::1"}""", "IPv6SubnetMin", "net-conf: IPv6SubnetMin 2001:db8:0:1::1 is not on a SubnetLen boundary")]
    [InlineData("""{"EnableIPv4": false, "EnableIPv6": true, "IPv6Network": "2001:db8::/48", "IPv6SubnetMax": "2001:db8:0:1::1"}""", "IPv6SubnetMax", "net-conf: IPv6SubnetMax 2001:db8:0:1::1 is not on a SubnetLen boundary")]
    [InlineData("""{"EnableIPv4": false, "EnableIPv6": true, "IPv6Network": "2001:db8::/48", "IPv6SubnetMin": "2001:db8:0:5::", "IPv6SubnetMax": "2001:db8:0:4::"}""", "IPv6SubnetMin", "net-conf: IPv6SubnetMin 2001:db8:0:5:: is above IPv6SubnetMax 2001:db8:0:4::")]
    // ipmatch.GetIPFamily.
    [InlineData("""{"Network": "198.18.0.0/16", "EnableIPv4": false}""", "EnableIPv4", "net-conf: EnableIPv4 false and EnableIPv6 false: none defined stack")]
    // Backend manager.
    [InlineData("""{"Network": "198.18.0.0/16", "Backend": {"Type": "foo"}}""", "Backend.Type", "net-conf: Backend.Type \"foo\": unknown backend type: foo")]
    [InlineData("""{"Network": "198.18.0.0/16", "Backend": {"Type": "WireGuard"}}""", "Backend.Type", "backend type wireguard is not supported by Flannel.NET (yet)")]
    [InlineData("""{"Network": "198.18.0.0/16", "Backend": {"Type": "ipip"}}""", "Backend.Type", "backend type ipip is not supported by Flannel.NET (yet)")]
    [InlineData("""{"Network": "198.18.0.0/16", "Backend": {"Type": "ipsec"}}""", "Backend.Type", "backend type ipsec is not supported by Flannel.NET (yet)")]
    [InlineData("""{"Network": "198.18.0.0/16", "Backend": {"Type": "extension"}}""", "Backend.Type", "backend type extension is not supported by Flannel.NET (yet)")]
    [InlineData("""{"Network": "198.18.0.0/16", "Backend": {}}""", "Backend.Type", "net-conf: Backend.Type is missing")]
    [InlineData("""{"Network": "198.18.0.0/16", "Backend": {"Type": ""}}""", "Backend.Type", "net-conf: Backend.Type is missing")]
    [InlineData("""{"Network": "198.18.0.0/16", "Backend": "vxlan"}""", "Backend", "net-conf: Backend \"vxlan\": must be a JSON object")]
    [InlineData("""{"Network": "198.18.0.0/16", "Backend": null}""", "Backend", "net-conf: Backend null: must be a JSON object")]
    [InlineData("""{"Network": "198.18.0.0/16", "Backend": {"Type": 1}}""", "Backend.Type", "net-conf: Backend.Type 1: must be a JSON string")]
    // JSON types and formats (Go's encoding/json and the ip package's UnmarshalJSON).
    [InlineData("""{"Network": "198.18.0.0/16", "EnableIPv6": "true"}""", "EnableIPv6", "net-conf: EnableIPv6 \"true\": must be a JSON boolean")]
    [InlineData("""{"Network": "198.18.0.0/16", "EnableIPv4": 1}""", "EnableIPv4", "net-conf: EnableIPv4 1: must be a JSON boolean")]
    [InlineData("""{"Network": "198.18.0.0/16", "EnableNFTables": "yes"}""", "EnableNFTables", "net-conf: EnableNFTables \"yes\": must be a JSON boolean")]
    [InlineData("""{"Network": "198.18.0.0/16", "SubnetLen": "24"}""", "SubnetLen", "net-conf: SubnetLen \"24\": must be an unsigned integer")]
    [InlineData("""{"Network": "198.18.0.0/16", "SubnetLen": -1}""", "SubnetLen", "net-conf: SubnetLen -1: must be an unsigned integer")]
    [InlineData("""{"Network": "198.18.0.0/16", "SubnetLen": 24.0}""", "SubnetLen", "net-conf: SubnetLen 24.0: must be an unsigned integer")]
    [InlineData("""{"Network": "198.18.0.0/16", "SubnetLen": 2e1}""", "SubnetLen", "net-conf: SubnetLen 2e1: must be an unsigned integer")]
    [InlineData("""{"Network": "198.18.0.0/16", "SubnetLen": 18446744073709551616}""", "SubnetLen", "net-conf: SubnetLen 18446744073709551616: must be an unsigned integer")]
    [InlineData("""{"Network": "198.18.0.0/16", "SubnetLen": 4294967320}""", "SubnetLen", "net-conf: SubnetLen 4294967320: SubnetLen must be less than /31")]
    [InlineData("""{"EnableIPv6": true, "IPv6Network": "2001:db8::/48", "IPv6SubnetLen": 200, "Network": "198.18.0.0/16"}""", "IPv6SubnetLen", "net-conf: IPv6SubnetLen 200: SubnetLen must be less than /127")]
    [InlineData("""{"Network": "198.18.0.0"}""", "Network", "net-conf: Network \"198.18.0.0\": not an IPv4 CIDR")]
    [InlineData("""{"Network": "198.18.0.0/33"}""", "Network", "net-conf: Network \"198.18.0.0/33\": not an IPv4 CIDR")]
    [InlineData("""{"Network": "2001:db8::/48"}""", "Network", "net-conf: Network \"2001:db8::/48\": is an IPv6 network; Network must be an IPv4 CIDR")]
    [InlineData("""{"Network": 10}""", "Network", "net-conf: Network 10: must be a JSON string")]
    [InlineData("""{"Network": null}""", "Network", "net-conf: Network null: must be a JSON string")]
    [InlineData("""{"Network": "198.18.0.0/16", "SubnetMin": 5}""", "SubnetMin", "net-conf: SubnetMin 5: must be a JSON string")]
    [InlineData("""{"Network": "198.18.0.0/16", "SubnetMin": "198.18.1"}""", "SubnetMin", "net-conf: SubnetMin \"198.18.1\": not an IPv4 address")]
    [InlineData("""{"Network": "198.18.0.0/16", "SubnetMax": "2001:db8::"}""", "SubnetMax", "net-conf: SubnetMax \"2001:db8::\": not an IPv4 address")]
    [InlineData("""{"Network": "198.18.0.0/16", "EnableIPv6": true, "IPv6Network": "198.18.0.0/16"}""", "IPv6Network", "net-conf: IPv6Network \"198.18.0.0/16\": is an IPv4 network; IPv6Network must be an IPv6 CIDR")]
    [InlineData("""{"Network": "198.18.0.0/16", "IPv6Network": "[2001:db8::]/48"}""", "IPv6Network", "net-conf: IPv6Network \"[2001:db8::]/48\": not an IPv6 CIDR")]
    [InlineData("""{"Network": "198.18.0.0/16", "IPv6Network": "::ffff:198.18.0.0/112"}""", "IPv6Network", "not an IPv6 CIDR")]
    [InlineData("""{"Network": "198.18.0.0/16", "IPv6SubnetMin": "198.18.1.0"}""", "IPv6SubnetMin", "net-conf: IPv6SubnetMin \"198.18.1.0\": not an IPv6 address")]
    [InlineData("""{"Network": "198.18.0.0/16", "IPv6SubnetMax": true}""", "IPv6SubnetMax", "net-conf: IPv6SubnetMax true: must be a JSON string")]
    public void Parse_InvalidConfig_ThrowsNamingKeyAndValue(string json, string key, string message)
    {
        var e = Assert.Throws<ConfigException>(() => NetConfigParser.Parse(json));

        Assert.Equal(key, e.Key);
        Assert.Contains(message, e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("")]
    [InlineData("{")]
    [InlineData("""{"Network": "198.18.0.0/16",}""")]
    [InlineData("""{"Network": "198.18.0.0/16"} x""")]
    [InlineData("// comment\n{\"Network\": \"198.18.0.0/16\"}")]
    public void Parse_MalformedJson_ThrowsConfigException(string json)
    {
        var e = Assert.Throws<ConfigException>(() => NetConfigParser.Parse(json));

        Assert.StartsWith("net-conf: invalid JSON", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("[]", "an array")]
    [InlineData("\"x\"", "a string")]
    [InlineData("42", "a number")]
    public void Parse_NotAnObject_ThrowsConfigException(string json, string kind)
    {
        var e = Assert.Throws<ConfigException>(() => NetConfigParser.Parse(json));

        Assert.Equal($"net-conf: expected a JSON object, got {kind}", e.Message);
    }

    // Go decodes a top-level null as "no keys"; then Network is missing.
    [Fact]
    public void Parse_TopLevelNull_ReportsMissingNetwork()
    {
        var e = Assert.Throws<ConfigException>(() => NetConfigParser.Parse("null"));

        Assert.Equal("Network", e.Key);
    }

    [Fact]
    public void Decode_SubnetLenAbove30WithIPv4Disabled_IsStillRejected()
    {
        var e = Assert.Throws<ConfigException>(() => NetConfigParser.Decode("""{"EnableIPv4": false, "EnableIPv6": true, "IPv6Network": "2001:db8::/48", "SubnetLen": 40}"""));

        Assert.Equal("SubnetLen", e.Key);
    }
}
