using Flanneld.Health;

namespace Flanneld.Tests.Health;

public class StartupChecksTests
{
    [Fact]
    public void CheckBrNetfilter_SysctlMissing_SaysModprobe()
    {
        string? message = StartupChecks.CheckBrNetfilter(enableNFTables: false, enableIPv4: true, enableIPv6: false, _ => false);

        Assert.NotNull(message);
        Assert.Contains("modprobe br_netfilter", message, StringComparison.Ordinal);
        Assert.Contains("/proc/sys/net/bridge/bridge-nf-call-iptables", message, StringComparison.Ordinal);
    }

    [Fact]
    public void CheckBrNetfilter_IPv6MissingOnly_NamesIp6tablesSysctl()
    {
        string? message = StartupChecks.CheckBrNetfilter(false, true, true, path => !path.EndsWith("ip6tables", StringComparison.Ordinal));

        Assert.Contains("bridge-nf-call-ip6tables", message, StringComparison.Ordinal);
    }

    [Fact]
    public void CheckBrNetfilter_Present_Null()
    {
        Assert.Null(StartupChecks.CheckBrNetfilter(false, true, true, _ => true));
    }

    [Fact]
    public void CheckBrNetfilter_NFTablesMode_NotChecked()
    {
        Assert.Null(StartupChecks.CheckBrNetfilter(true, true, true, _ => false));
    }

    [Fact]
    public void CheckBrNetfilter_ThisMachine_AgreesWithProc()
    {
        bool present = File.Exists(StartupChecks.BridgeNfCallIptables);

        Assert.Equal(present, StartupChecks.CheckBrNetfilter(false, true, false, File.Exists) is null);
    }

    [Fact]
    public void CheckMtu_VxlanOnSmallInterface_SaysHowMuchIsNeeded()
    {
        string? message = StartupChecks.CheckMtu("vxlan", "eth0", 600, 550, enableIPv6: false);

        Assert.NotNull(message);
        Assert.Contains("vxlan", message, StringComparison.Ordinal);
        Assert.Contains("eth0 has MTU 600", message, StringComparison.Ordinal);
        Assert.Contains("leaving 550", message, StringComparison.Ordinal);
        Assert.Contains("at least 626", message, StringComparison.Ordinal);
    }

    [Fact]
    public void CheckMtu_IPv6Below1280_Error()
    {
        Assert.Contains("IPv6", StartupChecks.CheckMtu("vxlan", "eth0", 1300, 1250, enableIPv6: true), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("vxlan", 1500, 1450, true)]
    [InlineData("host-gw", 1500, 1500, false)]
    [InlineData("udp", 604, 576, false)]
    public void CheckMtu_Enough_Null(string backend, int ifaceMtu, int podMtu, bool ipv6)
    {
        Assert.Null(StartupChecks.CheckMtu(backend, "eth0", ifaceMtu, podMtu, ipv6));
    }
}
