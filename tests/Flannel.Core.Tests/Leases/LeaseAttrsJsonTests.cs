using System.Net;
using System.Text;
using Flannel.Core.Leases;

namespace Flannel.Core.Tests.Leases;

public class LeaseAttrsJsonTests
{
    [Fact]
    public void Encode_Vxlan_MatchesUpstreamCapture()
    {
        var attrs = new LeaseAttrs(IPAddress.Parse("192.0.2.2"), null, "vxlan", """{"VNI":1,"VtepMAC":"f6:19:38:8e:a6:1f"}""");
        Assert.Equal(
            """{"PublicIP":"192.0.2.2","PublicIPv6":null,"BackendType":"vxlan","BackendData":{"VNI":1,"VtepMAC":"f6:19:38:8e:a6:1f"}}""",
            LeaseAttrsJson.EncodeToString(attrs));
    }

    [Fact]
    public void Encode_HostGw_OmitsBackendData()
    {
        var attrs = new LeaseAttrs(IPAddress.Parse("192.0.2.1"), null, "host-gw");
        Assert.Equal("""{"PublicIP":"192.0.2.1","PublicIPv6":null,"BackendType":"host-gw"}""", LeaseAttrsJson.EncodeToString(attrs));
    }

    [Fact]
    public void Encode_Udp_OmitsBackendType()
    {
        var attrs = new LeaseAttrs(IPAddress.Parse("192.0.2.1"));
        Assert.Equal("""{"PublicIP":"192.0.2.1","PublicIPv6":null}""", LeaseAttrsJson.EncodeToString(attrs));
    }

    [Fact]
    public void Encode_DualStack_WritesV6Fields()
    {
        var attrs = new LeaseAttrs(IPAddress.Parse("192.0.2.1"), IPAddress.Parse("2001:db8::1"), "vxlan", """{"VNI":1,"VtepMAC":"aa:bb:cc:dd:ee:01"}""", """{"VNI":1,"VtepMAC":"aa:bb:cc:dd:ee:02"}""");
        Assert.Equal(
            """{"PublicIP":"192.0.2.1","PublicIPv6":"2001:db8::1","BackendType":"vxlan","BackendData":{"VNI":1,"VtepMAC":"aa:bb:cc:dd:ee:01"},"BackendV6Data":{"VNI":1,"VtepMAC":"aa:bb:cc:dd:ee:02"}}""",
            LeaseAttrsJson.EncodeToString(attrs));
    }

    [Fact]
    public void Decode_CaseInsensitiveKeysAndSpacedData_RoundTripsCompact()
    {
        LeaseAttrs attrs = LeaseAttrsJson.Decode(Encoding.UTF8.GetBytes("""{"publicip":"192.0.2.2","BACKENDTYPE":"vxlan","BackendData":{ "VNI" : 1 , "VtepMAC":"f6:19:38:8e:a6:1f" },"Extra":3}"""));
        Assert.Equal(IPAddress.Parse("192.0.2.2"), attrs.PublicIP);
        Assert.Null(attrs.PublicIPv6);
        Assert.Equal("vxlan", attrs.BackendType);
        Assert.Equal("""{"VNI":1,"VtepMAC":"f6:19:38:8e:a6:1f"}""", attrs.BackendData);
    }

    [Theory]
    [InlineData("not json", "JSON")]
    [InlineData("[1,2]", "object")]
    [InlineData("""{"PublicIP":"300.1.1.1"}""", "PublicIP")]
    [InlineData("""{"PublicIP":"1"}""", "PublicIP")]
    [InlineData("""{"PublicIP":"192.0.2.1","PublicIPv6":"192.0.2.1"}""", "PublicIPv6")]
    [InlineData("""{"PublicIP":5}""", "PublicIP")]
    [InlineData("""{"PublicIP":"192.0.2.1","BackendType":7}""", "BackendType")]
    public void Decode_BadValue_ThrowsNamingTheField(string json, string expected)
    {
        FormatException ex = Assert.Throws<FormatException>(() => LeaseAttrsJson.Decode(Encoding.UTF8.GetBytes(json)));
        Assert.Contains(expected, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Decode_UpstreamVxlanValue_KeepsBackendDataByteForByte()
    {
        LeaseAttrs attrs = LeaseAttrsJson.Decode("""{"PublicIP":"192.0.2.2","PublicIPv6":null,"BackendType":"vxlan","BackendData":{"VNI":1,"VtepMAC":"f6:19:38:8e:a6:1f"}}"""u8);

        Assert.Equal("""{"VNI":1,"VtepMAC":"f6:19:38:8e:a6:1f"}""", attrs.BackendData);
        Assert.Same("vxlan", attrs.BackendType);
    }

    [Theory]
    [InlineData("""{"VNI":1,"VtepMAC":"f6:19:38:8e:a6:1f"}""")]
    [InlineData("""{ "VNI" : 1 , "list" : [ 1.50 , -2e3 , true , null ] }""")]
    [InlineData("""{"Name":"a b"}""")]
    [InlineData("""{"Name":"a+b<c>&'d'`"}""")]
    [InlineData("""{"Name":"\u0041\n\"q\""}""")]
    [InlineData("""{"Name":"é"}""")]
    [InlineData("""[{"a":{}},[],"x"]""")]
    [InlineData("\"text\"")]
    [InlineData("42")]
    public void Decode_AnyBackendData_SameTextAsReserialisingIt(string backendData)
    {
        LeaseAttrs attrs = LeaseAttrsJson.Decode(Encoding.UTF8.GetBytes($$"""{"PublicIP":"192.0.2.2","BackendData":{{backendData}},"BackendV6Data":{{backendData}}}"""));

        string expected = Reserialise(backendData);
        Assert.Equal(expected, attrs.BackendData);
        Assert.Equal(expected, attrs.BackendV6Data);
    }

    [Fact]
    public void Decode_EscapedFieldNames_MatchLikeOthers()
    {
        LeaseAttrs attrs = LeaseAttrsJson.Decode("""{"Public\u0049P":"192.0.2.7","backend\u0054ype":"host-gw"}"""u8);

        Assert.Equal(IPAddress.Parse("192.0.2.7"), attrs.PublicIP);
        Assert.Equal("host-gw", attrs.BackendType);
    }

    [Fact]
    public void Decode_DuplicateField_LastWinsAsInGo()
    {
        LeaseAttrs attrs = LeaseAttrsJson.Decode("""{"PublicIP":"192.0.2.7","publicip":"192.0.2.8"}"""u8);

        Assert.Equal(IPAddress.Parse("192.0.2.8"), attrs.PublicIP);
    }

    [Theory]
    [InlineData("""{"PublicIP":5,""")]
    [InlineData("""{"PublicIP":"192.0.2.1","BackendData":{"VNI":1""")]
    [InlineData("")]
    public void Decode_MalformedJson_ReportedAsJsonBeforeAnyField(string json)
    {
        FormatException ex = Assert.Throws<FormatException>(() => LeaseAttrsJson.Decode(Encoding.UTF8.GetBytes(json)));

        Assert.StartsWith("lease value is not valid JSON", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{"PublicIP":"300.1.1.1"}""", "lease field PublicIP is not an IPv4 address: \"300.1.1.1\"")]
    [InlineData("""{"PublicIP":{"a":1}}""", "lease field PublicIP is not an IPv4 address: {\"a\":1}")]
    [InlineData("""{"PublicIP":"192.0.2.1","BackendType":[1]}""", "lease field BackendType must be a string, not Array")]
    [InlineData("[1,2]", "lease value must be a JSON object, not Array")]
    public void Decode_BadValue_MessageShowsTheValue(string json, string expected)
    {
        FormatException ex = Assert.Throws<FormatException>(() => LeaseAttrsJson.Decode(Encoding.UTF8.GetBytes(json)));

        Assert.Equal(expected, ex.Message);
    }

    private static string Reserialise(string json)
    {
        using var document = System.Text.Json.JsonDocument.Parse(json);
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        using (var writer = new System.Text.Json.Utf8JsonWriter(buffer))
        {
            document.RootElement.WriteTo(writer);
        }

        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }
}
