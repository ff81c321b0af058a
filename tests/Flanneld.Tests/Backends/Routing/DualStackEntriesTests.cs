using System.Net;
using Flannel.Core.Leases;
using Flannel.Core.Net;
using Flannel.Linux.Netlink;
using Flanneld.Backends.Routing;

namespace Flanneld.Tests.Backends.Routing;

public class DualStackEntriesTests
{
    private static readonly Lease DualLease = new(
        Ip4Net.Parse("198.18.2.0/24"), Ip6Net.Parse("2001:db8:100:2::/64"),
        new LeaseAttrs(IPAddress.Parse("192.0.2.2"), IPAddress.Parse("2001:db8:0:1::2"), "host-gw"));

    private static readonly Lease V4Lease = DualLease with { IPv6Subnet = null };

    private static PeerEntries? Route4(Lease lease, out string? reason)
    {
        reason = null;
        return PeerEntries.RoutesOnly(new Route { Destination = lease.Subnet!.Value, Gateway = lease.Attrs.PublicIP });
    }

    private static PeerEntries? Route6(Lease lease, out string? reason)
    {
        reason = null;
        return PeerEntries.RoutesOnly(new Route { Destination = lease.IPv6Subnet!.Value, Gateway = lease.Attrs.PublicIPv6 });
    }

    private static PeerEntries? Refuse(Lease lease, out string? reason)
    {
        reason = "refused";
        return null;
    }

    [Fact]
    public void Combine_BothFamiliesGood_ConcatenatesInFamilyOrder()
    {
        PeerEntries? entries = DualStackEntries.Combine(DualLease, Route4, Route6, out string? reason);

        Assert.Null(reason);
        Assert.NotNull(entries);
        Assert.Equal(["198.18.2.0/24", "2001:db8:100:2::/64"], entries.Routes.Select(r => r.Destination.ToString()));
    }

    [Fact]
    public void Combine_IPv6PartBad_KeepsIPv4AndSaysWhy()
    {
        PeerEntries? entries = DualStackEntries.Combine(DualLease, Route4, Refuse, out string? reason);

        Assert.Equal("IPv6: refused", reason);
        Assert.Equal(["198.18.2.0/24"], entries!.Routes.Select(r => r.Destination.ToString()));
    }

    [Fact]
    public void Combine_PeerWithoutIPv6_SilentlyIPv4Only()
    {
        PeerEntries? entries = DualStackEntries.Combine(V4Lease, Route4, Route6, out string? reason);

        Assert.Null(reason);
        Assert.Single(entries!.Routes);
    }

    [Fact]
    public void Combine_IPv6OnlyNodeAndIPv4OnlyPeer_NothingWithReason()
    {
        Assert.Null(DualStackEntries.Combine(V4Lease, null, Route6, out string? reason));
        Assert.Equal("no IPv6 subnet", reason);
    }

    [Fact]
    public void Combine_BothFamiliesBad_NullWithBothReasons()
    {
        Assert.Null(DualStackEntries.Combine(DualLease, Refuse, Refuse, out string? reason));
        Assert.Equal("refused; IPv6: refused", reason);
    }
}
