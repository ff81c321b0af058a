using System.Text.Json.Nodes;

namespace Flannel.Cni.Tests;

public class InstalledRoutesTests
{
    [Fact]
    public void FillGateways_GatewaylessRoutes_GetTheirFamilysGatewayOthersUntouched()
    {
        var result = JsonNode.Parse("""
            {"ips":[{"address":"198.18.30.2/24","gateway":"198.18.30.1"},{"address":"2001:db8:0:1::2/64","gateway":"2001:db8:0:1::1"}],
             "routes":[{"dst":"198.18.0.0/16"},{"dst":"0.0.0.0/0","gw":"198.18.30.254"},{"dst":"2001:db8::/48"}]}
            """)!.AsObject();
        InstalledRoutes.FillGateways(result);
        Assert.Equal(
            """[{"dst":"198.18.0.0/16","gw":"198.18.30.1"},{"dst":"0.0.0.0/0","gw":"198.18.30.254"},{"dst":"2001:db8::/48","gw":"2001:db8:0:1::1"}]""",
            result["routes"]!.ToJsonString());
    }

    [Fact]
    public void FillGateways_NoGatewayForFamily_RouteLeftAlone()
    {
        var result = JsonNode.Parse("""{"ips":[{"address":"198.18.30.2/24"}],"routes":[{"dst":"198.18.0.0/16"}]}""")!.AsObject();
        InstalledRoutes.FillGateways(result);
        Assert.Equal("""[{"dst":"198.18.0.0/16"}]""", result["routes"]!.ToJsonString());
    }
}
