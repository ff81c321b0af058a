using System.Net;
using Flannel.Linux.Netlink;

namespace Flannel.Linux.Tests.Netlink;

public sealed class VxlanSettingsTests
{
    private static readonly VxlanSettings Wanted = new() { Vni = 1, UnderlayIndex = 2, Local = IPAddress.Parse("192.0.2.1"), Port = 0 };

    [Fact]
    public void IncompatibilityWith_ReadBackOfSameDeviceWithKernelDefaultPort_IsCompatible()
    {
        VxlanSettings existing = Wanted with { Port = 8472 };

        Assert.Null(existing.IncompatibilityWith(Wanted));
    }

    [Theory]
    [InlineData("vni", "vni: 2 vs 1")]
    [InlineData("dev", "vtep (external) interface: 3 vs 2")]
    [InlineData("local", "vtep (external) IP: 192.0.2.9 vs 192.0.2.1")]
    [InlineData("l2miss", "l2miss: True vs False")]
    [InlineData("gbp", "gbp: True vs False")]
    public void IncompatibilityWith_OneFieldDiffers_NamesIt(string field, string expected)
    {
        VxlanSettings existing = field switch
        {
            "vni" => Wanted with { Vni = 2 },
            "dev" => Wanted with { UnderlayIndex = 3 },
            "local" => Wanted with { Local = IPAddress.Parse("192.0.2.9") },
            "l2miss" => Wanted with { L2Miss = true },
            _ => Wanted with { Gbp = true },
        };

        Assert.Equal(expected, existing.IncompatibilityWith(Wanted));
    }

    [Fact]
    public void IncompatibilityWith_LearningDiffers_StillCompatibleAsUpstream()
    {
        Assert.Null((Wanted with { Learning = true }).IncompatibilityWith(Wanted));
    }
}
