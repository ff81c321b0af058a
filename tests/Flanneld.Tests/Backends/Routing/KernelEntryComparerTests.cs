using System.Net;
using System.Net.NetworkInformation;
using Flannel.Linux.Netlink;
using Flanneld.Backends.Routing;

namespace Flanneld.Tests.Backends.Routing;

public class KernelEntryComparerTests
{
    [Theory]
    [InlineData("198.18.2.0")]
    [InlineData("2001:db8:100:2::")]
    public void SameNeighbour_EqualValuesInDistinctInstances_True(string address)
    {
        // As the kernel dump hands them back: new IPAddress and PhysicalAddress objects.
        var wanted = new Neighbour { InterfaceIndex = 4, Address = IPAddress.Parse(address), LinkAddress = PhysicalAddress.Parse("0E-00-00-00-00-02") };
        var dumped = new Neighbour { InterfaceIndex = 4, Address = IPAddress.Parse(address), LinkAddress = PhysicalAddress.Parse("0E-00-00-00-00-02") };

        Assert.True(KernelEntryComparer.SameNeighbour(wanted, dumped));
        var builder = new KernelPlanBuilder([new PeerEntries([wanted], [], [])]);
        builder.Have(dumped);
        Assert.True(builder.Build().IsEmpty);
    }

    [Fact]
    public void SameFdb_EqualValuesInDistinctInstances_TrueAndLeftAlone()
    {
        var wanted = new FdbEntry { InterfaceIndex = 4, LinkAddress = PhysicalAddress.Parse("0E-00-00-00-00-02"), Destination = IPAddress.Parse("192.0.2.2") };
        var dumped = new FdbEntry { InterfaceIndex = 4, LinkAddress = PhysicalAddress.Parse("0E-00-00-00-00-02"), Destination = IPAddress.Parse("192.0.2.2") };

        Assert.True(KernelEntryComparer.SameFdb(wanted, dumped));
        var builder = new KernelPlanBuilder([new PeerEntries([], [wanted], [])]);
        builder.Have(dumped);
        Assert.True(builder.Build().IsEmpty);
    }

    [Theory]
    [InlineData("0E-00-00-00-00-03", "192.0.2.2")]
    [InlineData("0E-00-00-00-00-02", "192.0.2.3")]
    public void SameFdb_OtherMacOrDestination_FalseAndReplaced(string mac, string destination)
    {
        var wanted = new FdbEntry { InterfaceIndex = 4, LinkAddress = PhysicalAddress.Parse("0E-00-00-00-00-02"), Destination = IPAddress.Parse("192.0.2.2") };
        var dumped = new FdbEntry { InterfaceIndex = 4, LinkAddress = PhysicalAddress.Parse(mac), Destination = IPAddress.Parse(destination) };

        Assert.False(KernelEntryComparer.SameFdb(wanted, dumped));
        var builder = new KernelPlanBuilder([new PeerEntries([], [wanted], [])]);
        builder.Have(dumped);
        KernelPlan plan = builder.Build();
        Assert.Equal([wanted], plan.ReplaceFdb);

        // A dumped entry for another MAC is not one of ours any more: it goes.
        Assert.Equal(mac == "0E-00-00-00-00-02" ? [] : [dumped], plan.DeleteFdb);
    }
}
