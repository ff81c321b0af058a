using Flannel.Core.Net;
using Flanneld.Backends.Udp;

namespace Flanneld.Tests.Backends.Udp;

public class UdpRouteTableTests
{
    private static readonly NextHop Node2 = new(Ip4.Parse("192.0.2.2"), 8285);
    private static readonly NextHop Node3 = new(Ip4.Parse("192.0.2.3"), 8285);

    [Fact]
    public void TryLookup_AddressInsideSubnet_FindsNextHop()
    {
        var table = new UdpRouteTable();
        table.Set(Ip4Net.Parse("198.18.2.0/24"), Node2);
        Assert.True(table.TryLookup(Ip4.Parse("198.18.2.77"), out NextHop hop));
        Assert.Equal(Node2, hop);
        Assert.False(table.TryLookup(Ip4.Parse("198.18.3.1"), out _));
    }

    [Fact]
    public void TryLookup_OverlappingPrefixes_LongestWins()
    {
        var table = new UdpRouteTable();
        table.Set(Ip4Net.Parse("198.18.0.0/16"), Node2);
        table.Set(Ip4Net.Parse("198.18.5.0/24"), Node3);
        table.Set(Ip4Net.Parse("198.18.5.128/25"), Node2);
        Assert.True(table.TryLookup(Ip4.Parse("198.18.5.1"), out NextHop a));
        Assert.Equal(Node3, a);
        Assert.True(table.TryLookup(Ip4.Parse("198.18.5.200"), out NextHop b));
        Assert.Equal(Node2, b);
        Assert.True(table.TryLookup(Ip4.Parse("198.18.9.9"), out NextHop c));
        Assert.Equal(Node2, c);
    }

    [Fact]
    public void Set_SameSubnetWithHostBits_ReplacesEntry()
    {
        var table = new UdpRouteTable();
        table.Set(Ip4Net.Parse("198.18.2.0/24"), Node2);
        table.Set(Ip4Net.Parse("198.18.2.1/24"), Node3);
        Assert.Equal(1, table.Count);
        Assert.True(table.TryLookup(Ip4.Parse("198.18.2.9"), out NextHop hop));
        Assert.Equal(Node3, hop);
    }

    [Fact]
    public void Remove_ExistingAndMissing_ReportsWhetherRemoved()
    {
        var table = new UdpRouteTable();
        table.Set(Ip4Net.Parse("198.18.2.0/24"), Node2);
        Assert.True(table.Remove(Ip4Net.Parse("198.18.2.0/24")));
        Assert.False(table.Remove(Ip4Net.Parse("198.18.2.0/24")));
        Assert.False(table.TryLookup(Ip4.Parse("198.18.2.1"), out _));
    }

    [Fact]
    public void Replace_WholeTable_OnlyNewRoutesRemain()
    {
        var table = new UdpRouteTable();
        table.Set(Ip4Net.Parse("198.18.2.0/24"), Node2);
        table.Replace([new(Ip4Net.Parse("198.18.3.0/24"), Node3)]);
        Assert.False(table.TryLookup(Ip4.Parse("198.18.2.1"), out _));
        Assert.True(table.TryLookup(Ip4.Parse("198.18.3.1"), out _));
    }

    [Fact]
    public async Task TryLookup_WhileWritersChurn_AlwaysSeesStableRoute()
    {
        var table = new UdpRouteTable();
        table.Set(Ip4Net.Parse("198.18.1.0/24"), Node2);
        using var stop = new CancellationTokenSource(TimeSpan.FromMilliseconds(500));
        Task writer = Task.Run(() =>
        {
            for (int i = 0; !stop.IsCancellationRequested; i++)
            {
                var subnet = new Ip4Net(Ip4.Parse("198.18.0.0") + ((uint)(2 + (i % 200)) << 8), 24);
                table.Set(subnet, Node3);
                table.Remove(subnet);
            }
        });
        long lookups = 0;
        while (!stop.IsCancellationRequested)
        {
            Assert.True(table.TryLookup(Ip4.Parse("198.18.1.5"), out NextHop hop));
            Assert.Equal(Node2, hop);
            lookups++;
        }

        await writer;
        Assert.True(lookups > 0);
    }
}
