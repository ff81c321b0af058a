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
        Assert.True(KernelPlan.Build([new PeerEntries([wanted], [], [])], [], [dumped], []).IsEmpty);
    }
}
