using System.Net.NetworkInformation;
using Flannel.Linux.Netlink;
using Flanneld.Backends.Vxlan;

namespace Flanneld.Tests.Backends.Vxlan;

public sealed class VtepMacTests
{
    [Theory]
    [InlineData("{\"VNI\":1,\"VtepMAC\":\"0e:aa:bb:cc:dd:01\"}")]
    [InlineData("{\"vtepmac\":\"0E-AA-BB-CC-DD-01\",\"VNI\":1}")]
    [InlineData("{\"Other\":{\"VtepMAC\":\"ff:ff:ff:ff:ff:ff\",\"list\":[1,2,{}]},\"VtepMAC\":\"0e:aa:bb:cc:dd:01\"}")]
    [InlineData("{\"Vtep\\u004dAC\":\"0e:aa:bb:cc:dd:01\"}")]
    [InlineData("{\"VtepMAC\":\"0e:aa:bb:cc:dd:\\u0030\\u0031\"}")]
    [InlineData(" { \"VNI\" : 1 , \"VtepMAC\" : \"0e:aa:bb:cc:dd:01\" } ")]
    public void ParseBackendData_VtepMacPresent_ReturnsIt(string backendData)
    {
        PhysicalAddress? mac = VtepMac.ParseBackendData(backendData, out string? reason);

        Assert.Null(reason);
        Assert.Equal("0e:aa:bb:cc:dd:01", Mac.Format(mac));
    }

    [Fact]
    public void ParseBackendData_LongBackendData_ReadsPastTheStackBuffer()
    {
        string backendData = $"{{\"Padding\":\"{new string('x', 2000)}\",\"VtepMAC\":\"0e:aa:bb:cc:dd:01\"}}";

        Assert.Equal("0e:aa:bb:cc:dd:01", Mac.Format(VtepMac.ParseBackendData(backendData, out _)));
    }

    [Theory]
    [InlineData(null, "no BackendData")]
    [InlineData("", "no BackendData")]
    [InlineData("{\"VNI\":1}", "BackendData has no VtepMAC")]
    [InlineData("[\"0e:aa:bb:cc:dd:01\"]", "bad BackendData: not a JSON object")]
    [InlineData("{\"VtepMAC\":\"0e:aa:bb:cc:dd\"}", "bad BackendData: '0e:aa:bb:cc:dd' is not a MAC address (aa:bb:cc:dd:ee:ff).")]
    [InlineData("{\"VtepMAC\":\"0e:aa:bb:cc:dd:01:02:03:04:05:06:07\"}", "bad BackendData: '0e:aa:bb:cc:dd:01:02:03:04:05:06:07' is not a MAC address (aa:bb:cc:dd:ee:ff).")]
    [InlineData("{\"VtepMAC\":12}", "bad BackendData: VtepMAC is a Number, not a string")]
    [InlineData("{\"VtepMAC\":null}", "bad BackendData: VtepMAC is a Null, not a string")]
    [InlineData("{\"VtepMAC\":\"01:00:5e:00:00:01\"}", "VtepMAC 01:00:5e:00:00:01 is not a unicast MAC")]
    [InlineData("{\"VtepMAC\":\"00:00:00:00:00:00\"}", "VtepMAC 00:00:00:00:00:00 is not a unicast MAC")]
    public void ParseBackendData_NoUsableVtepMac_NullWithReason(string? backendData, string expected)
    {
        Assert.Null(VtepMac.ParseBackendData(backendData, out string? reason));
        Assert.Equal(expected, reason);
    }

    [Theory]
    [InlineData("{\"VtepMAC\":\"0e:aa:bb:cc:dd:01\"")]
    [InlineData("{\"VtepMAC\":\"0e:aa:bb:cc:dd:01\"} trailing")]
    [InlineData("{\"VtepMAC\":\"0e:aa:bb:cc:dd:01\",}")]
    [InlineData("{VtepMAC:\"0e:aa:bb:cc:dd:01\"}")]
    public void ParseBackendData_MalformedJson_NullWithJsonError(string backendData)
    {
        Assert.Null(VtepMac.ParseBackendData(backendData, out string? reason));
        Assert.StartsWith("bad BackendData: ", reason, StringComparison.Ordinal);
    }
}
