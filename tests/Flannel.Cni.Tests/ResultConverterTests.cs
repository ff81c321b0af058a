using System.Text;
using System.Text.Json.Nodes;

namespace Flannel.Cni.Tests;

public class ResultConverterTests
{
    // The ADD result upstream returned in the lab (upstream-captures/vxlan.txt), dual-stacked for the family split.
    private const string Current = """
        {"cniVersion":"1.0.0",
         "interfaces":[{"name":"cni0","mac":"fe:39:8b:2c:be:47"},{"name":"vethdb0aba2d","mac":"56:da:ab:80:8a:3c"},{"name":"eth0","mac":"7a:3e:b6:f9:a4:51","sandbox":"/var/run/netns/node1-pod1"}],
         "ips":[{"interface":2,"address":"198.18.30.2/24","gateway":"198.18.30.1"},{"interface":2,"address":"2001:db8:0:1::2/64","gateway":"2001:db8:0:1::1"}],
         "routes":[{"dst":"198.18.0.0/16"},{"dst":"0.0.0.0/0","gw":"198.18.30.1"},{"dst":"2001:db8::/48"}],
         "dns":{}}
        """;

    private static JsonObject Convert(string result, string from, string to) =>
        (JsonObject)JsonNode.Parse(ResultConverter.Convert(Encoding.UTF8.GetBytes(result), from, to))!;

    [Fact]
    public void Convert_SameVersion_ReturnsDelegateBytesUnchanged()
    {
        byte[] bytes = Encoding.UTF8.GetBytes(Current);
        Assert.Same(bytes, ResultConverter.Convert(bytes, "1.0.0", "1.0.0"));
    }

    [Fact]
    public void Convert_CurrentTo031_AddsIpVersionFirst()
    {
        JsonObject result = Convert(Current, "1.0.0", "0.3.1");
        Assert.Equal("0.3.1", (string?)result["cniVersion"]);
        Assert.Equal("""{"version":"4","interface":2,"address":"198.18.30.2/24","gateway":"198.18.30.1"}""", result["ips"]![0]!.ToJsonString());
        Assert.Equal("6", (string?)result["ips"]![1]!["version"]);
        Assert.Equal(3, result["interfaces"]!.AsArray().Count);
        Assert.Equal(3, result["routes"]!.AsArray().Count);
    }

    [Fact]
    public void Convert_040ToCurrent_DropsIpVersion()
    {
        JsonObject old = Convert(Current, "1.0.0", "0.4.0");
        JsonObject back = Convert(old.ToJsonString(), "0.4.0", "1.1.0");
        Assert.Equal("1.1.0", (string?)back["cniVersion"]);
        Assert.Equal("""{"interface":2,"address":"198.18.30.2/24","gateway":"198.18.30.1"}""", back["ips"]![0]!.ToJsonString());
    }

    [Fact]
    public void Convert_CurrentToLegacy_FirstAddressPerFamilyWithItsRoutes()
    {
        JsonObject result = Convert(Current, "1.0.0", "0.2.0");
        Assert.Equal(
            """{"cniVersion":"0.2.0","ip4":{"ip":"198.18.30.2/24","gateway":"198.18.30.1","routes":[{"dst":"198.18.0.0/16"},{"dst":"0.0.0.0/0","gw":"198.18.30.1"}]},"ip6":{"ip":"2001:db8:0:1::2/64","gateway":"2001:db8:0:1::1","routes":[{"dst":"2001:db8::/48"}]},"dns":{}}""",
            result.ToJsonString());
    }

    [Fact]
    public void Convert_LegacyToCurrent_IpsAndRoutesFromIp4()
    {
        const string legacy = """{"cniVersion":"0.1.0","ip4":{"ip":"198.18.30.2/24","gateway":"198.18.30.1","routes":[{"dst":"198.18.0.0/16"}]},"dns":{"nameservers":["198.18.0.10"]}}""";
        JsonObject result = Convert(legacy, "0.1.0", "1.0.0");
        Assert.Equal(
            """{"cniVersion":"1.0.0","ips":[{"address":"198.18.30.2/24","gateway":"198.18.30.1"}],"routes":[{"dst":"198.18.0.0/16"}],"dns":{"nameservers":["198.18.0.10"]}}""",
            result.ToJsonString());
    }

    [Fact]
    public void Convert_ResultWithoutVersion_TakenAsConfiguredVersion()
    {
        JsonObject result = Convert("""{"ips":[{"address":"198.18.30.2/24"}]}""", "1.0.0", "0.3.0");
        Assert.Equal("""{"cniVersion":"0.3.0","ips":[{"version":"4","address":"198.18.30.2/24"}],"dns":{}}""", result.ToJsonString());
    }

    [Fact]
    public void Convert_NoAddressesToLegacy_IncompatibleVersion()
    {
        CniException e = Assert.Throws<CniException>(() => Convert("""{"cniVersion":"1.0.0","interfaces":[{"name":"x"}]}""", "1.0.0", "0.2.0"));
        Assert.Equal(CniErrorCode.IncompatibleVersion, e.Code);
    }
}
