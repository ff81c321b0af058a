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
}
