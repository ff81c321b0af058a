using System.Net;
using Flannel.Core.Config;
using Flannel.Core.Leases;
using Flannel.Core.Net;
using Flanneld.Options;
using Flanneld.TrafficRules;
using Microsoft.Extensions.Logging.Abstractions;

namespace Flanneld.Tests.TrafficRules;

public sealed class TrafficRulesStartupTests : IDisposable
{
    private static readonly NetConfig DualStack = new()
    {
        EnableIPv4 = true,
        EnableIPv6 = true,
        Network = Ip4Net.Parse("198.18.0.0/16"),
        IPv6Network = Ip6Net.Parse("2001:db8:42::/56"),
    };

    private static readonly Lease Lease = new(Ip4Net.Parse("198.18.30.0/24"), Ip6Net.Parse("2001:db8:42:1::/64"), new LeaseAttrs(IPAddress.Parse("192.0.2.1")));

    private readonly TestNetns _ns = new("start");

    public void Dispose() => _ns.Dispose();

    [Fact]
    public async Task SetUp_IpMasqDualStack_BothFamiliesMatchUpstreamAndOldSubnetGone()
    {
        using ITrafficManager manager = TrafficManagerFactory.Create(enableNFTables: false, randomFullyDisabled: false, NullLogger.Instance, runner: _ns.Runner);
        using (ITrafficManager old = TrafficManagerFactory.Create(enableNFTables: false, randomFullyDisabled: false, NullLogger.Instance, runner: _ns.Runner))
        {
            await old.SetupAndEnsureMasqRulesAsync(Ip4Net.Parse("198.18.0.0/16"), Ip4Net.Parse("198.18.99.0/24"), null, null, CancellationToken.None);
        }

        var previous = new SubnetEnv { Networks = [Ip4Net.Parse("198.18.0.0/16")], Subnet = Ip4Net.Parse("198.18.99.0/24") };

        await TrafficRulesStartup.SetUpAsync(manager, new FlanneldOptions { IpMasq = true }, DualStack, Lease, previous, CancellationToken.None);

        Assert.Equal(IptablesManagerTests.ExpectedPostrouting("198.18.0.0/16", "198.18.30.0/24", "224.0.0.0/4"), IptablesManagerTests.NatFlannel(_ns));
        Assert.Equal(IptablesManagerTests.ExpectedForward("198.18.0.0/16"), IptablesManagerTests.FilterForward(_ns));
        Assert.Equal(IptablesManagerTests.ExpectedPostrouting("2001:db8:42::/56", "2001:db8:42:1::/64", "ff00::/8"), IptablesManagerTests.NatFlannel(_ns, "ip6tables"));
        Assert.Equal(IptablesManagerTests.ExpectedForward("2001:db8:42::/56"), IptablesManagerTests.FilterForward(_ns, "ip6tables"));
        Assert.False(await manager.ResyncOnceAsync(CancellationToken.None));
    }

    [Fact]
    public async Task SetUp_NoIpMasqNoForward_InstallsNothing()
    {
        using ITrafficManager manager = TrafficManagerFactory.Create(enableNFTables: true, randomFullyDisabled: false, NullLogger.Instance, runner: _ns.Runner);

        await TrafficRulesStartup.SetUpAsync(manager, new FlanneldOptions { IpMasq = false, IptablesForwardRules = false }, DualStack, Lease, null, CancellationToken.None);

        Assert.DoesNotContain("flannel", _ns.Exec("nft", "list", "tables"), StringComparison.Ordinal);
        Assert.False(await manager.ResyncOnceAsync(CancellationToken.None));
    }

    [Fact]
    public async Task SetUp_NftablesModeAfterIptablesMode_IptablesChainsRemovedTablesInstalled()
    {
        using (ITrafficManager ipt = TrafficManagerFactory.Create(enableNFTables: false, randomFullyDisabled: false, NullLogger.Instance, runner: _ns.Runner))
        {
            await TrafficRulesStartup.SetUpAsync(ipt, new FlanneldOptions { IpMasq = true }, DualStack, Lease, null, CancellationToken.None);
        }

        using ITrafficManager nft = TrafficManagerFactory.Create(enableNFTables: true, randomFullyDisabled: false, NullLogger.Instance, runner: _ns.Runner);
        await TrafficRulesStartup.SetUpAsync(nft, new FlanneldOptions { IpMasq = true }, DualStack, Lease, null, CancellationToken.None);

        Assert.DoesNotContain("FLANNEL", _ns.Exec("iptables-save"), StringComparison.Ordinal);
        Assert.DoesNotContain("FLANNEL", _ns.Exec("ip6tables-save"), StringComparison.Ordinal);
        Assert.Equal(
            NftablesManagerTests.ExpectedPostrouting("ip", "flannel-ipv4", "198.18.0.0/16", "198.18.30.0/24", "224.0.0.0/4"),
            _ns.Exec("nft", "list", "chain", "ip", "flannel-ipv4", "postrtg").TrimEnd('\n'));
        Assert.Equal(
            NftablesManagerTests.ExpectedForward("ip6", "flannel-ipv6", "2001:db8:42::/56"),
            _ns.Exec("nft", "list", "chain", "ip6", "flannel-ipv6", "forward").TrimEnd('\n'));
    }
}
