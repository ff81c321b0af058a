using System.Net;
using System.Net.NetworkInformation;
using Flannel.Core.Config;
using Flannel.Core.Leases;
using Flannel.Core.Net;
using Flannel.Linux.Interfaces;
using Flannel.Testing;
using Flannel.Linux.Namespaces;
using Flannel.Linux.Netlink;
using Flanneld.Backends.Vxlan;
using Flanneld.Tests.Leases.Etcd;
using Microsoft.Extensions.Logging;

namespace Flanneld.Tests.Backends.Vxlan;

/// <summary>The running dual-stack vxlan network against the real kernel, in a throwaway namespace.</summary>
public sealed class VxlanNetworkKernelTests
{
    private static readonly NetConfig Config = NetConfigParser.Parse(
        """{"Network":"198.18.0.0/16","SubnetLen":24,"EnableIPv6":true,"IPv6Network":"2001:db8:100::/56","IPv6SubnetLen":64,"Backend":{"Type":"vxlan"}}""");

    private static readonly Lease Own = new(Ip4Net.Parse("198.18.1.0/24"), Ip6Net.Parse("2001:db8:100:1::/64"),
        new LeaseAttrs(IPAddress.Parse("192.0.2.1"), IPAddress.Parse("2001:db8:0:1::1"), "vxlan"));

    private static Lease Peer(int n) => new(
        Ip4Net.Parse($"198.18.{n}.0/24"), Ip6Net.Parse($"2001:db8:100:{n:x}::/64"),
        new LeaseAttrs(IPAddress.Parse($"192.0.2.{n}"), IPAddress.Parse($"2001:db8:0:1::{n:x}"), "vxlan",
            $$"""{"VNI":1,"VtepMAC":"0e:00:00:00:04:{{n:x2}}"}""", $$"""{"VNI":1,"VtepMAC":"0e:00:00:00:06:{{n:x2}}"}"""));

    [Fact]
    public async Task SyncThenRepair_DualStackPeers_ProgramsBothFamiliesAndRepairChangesNothing()
    {
        using var ns = ShellTestNamespace.Create("vxds");
        ns.Ip("link add eth0 type veth peer name eth1");
        ns.Ip("link set eth0 up");
        ns.Ip("link set eth1 up");
        ns.Ip("addr add 192.0.2.1/24 dev eth0");
        ns.Ip("-6 addr add 2001:db8:0:1::1/64 dev eth0 nodad");
        using NetworkNamespace handle = NetworkNamespace.Open(ns.Name);
        using Rtnetlink netlink = Rtnetlink.Open(handle);
        CancellationToken ct = new CancellationTokenSource(TimeSpan.FromSeconds(60)).Token;
        Link eth0 = await netlink.GetLinkAsync("eth0", ct);
        VxlanTunnel v4 = await TunnelAsync(netlink, "flannel.1", IPAddress.Parse("192.0.2.1"), eth0.Index, ct);
        VxlanTunnel v6 = await TunnelAsync(netlink, "flannel-v6.1", IPAddress.Parse("2001:db8:0:1::1"), eth0.Index, ct);
        await netlink.AddAddressAsync(v4.Index, IpPrefix.Parse("198.18.1.0/32"), ct);
        await netlink.AddAddressAsync(v6.Index, IpPrefix.Parse("2001:db8:100:1::/128"), ct);
        var iface = new ExternalInterface { Index = eth0.Index, Name = "eth0", Mtu = 1500 };
        var logger = new RecordingLogger<VxlanNetwork>();
        await using var network = new VxlanNetwork(netlink, Own, v4, v6, iface, directRouting: false, Config, logger);

        await network.SyncAsync([Peer(2), Peer(3)], ct);
        await network.RepairAsync(ct);

        Assert.Equal(12, network.ProgrammedEntries);
        Assert.DoesNotContain(logger.Entries, e => e.Message.Contains("Repaired", StringComparison.Ordinal));
        Assert.Contains(logger.Entries, e => e.Message.Contains("12 changes (0 stale entries removed)", StringComparison.Ordinal));
        Route route6 = Assert.Single(await netlink.ListRoutesAsync(System.Net.Sockets.AddressFamily.InterNetworkV6, ct), r => r.Destination == IpPrefix.Parse("2001:db8:100:2::/64"));
        Assert.Equal(IPAddress.Parse("2001:db8:100:2::"), route6.Gateway);
        Assert.Equal(v6.Index, route6.OutputInterface);
        Assert.Contains(await netlink.ListFdbAsync(v6.Index, ct), f => Equals(f.Destination, IPAddress.Parse("2001:db8:0:1::3")) && f.LinkAddress.Equals(PhysicalAddress.Parse("0E-00-00-00-06-03")));

        await network.ApplyAsync([new LeaseEvent(LeaseEventType.Removed, Peer(3))], ct);

        Assert.DoesNotContain(await netlink.ListRoutesAsync(System.Net.Sockets.AddressFamily.InterNetworkV6, ct), r => r.Destination == IpPrefix.Parse("2001:db8:100:3::/64"));
        Assert.DoesNotContain(await netlink.ListNeighboursAsync(System.Net.Sockets.AddressFamily.InterNetworkV6, v6.Index, ct), n => n.Address.Equals(IPAddress.Parse("2001:db8:100:3::")));
        Assert.DoesNotContain(await netlink.ListFdbAsync(v6.Index, ct), f => Equals(f.Destination, IPAddress.Parse("2001:db8:0:1::3")));
        Assert.Equal(6, network.ProgrammedEntries);
    }

    private static async Task<VxlanTunnel> TunnelAsync(Rtnetlink netlink, string name, IPAddress local, int underlay, CancellationToken ct)
    {
        Link link = await netlink.CreateLinkAsync(
            new VxlanLinkSpec(name, new VxlanSettings { Vni = 1, Local = local, UnderlayIndex = underlay }) { Up = true, HardwareAddress = Mac.NewLocallyAdministered() }, ct);
        return new VxlanTunnel(new VxlanDevice(name, link.Vxlan!, link.Mtu), link.Index, link.HardwareAddress!);
    }
}
