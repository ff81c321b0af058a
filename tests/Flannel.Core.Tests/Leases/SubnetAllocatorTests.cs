using System.Diagnostics;
using CsCheck;
using Flannel.Core.Config;
using Flannel.Core.Leases;
using Flannel.Core.Net;

namespace Flannel.Core.Tests.Leases;

public class SubnetAllocatorTests
{
    private static NetConfig Ip4Config(string network, int subnetLen)
    {
        Ip4Net net = Ip4Net.Parse(network);
        uint step = 1u << (32 - subnetLen);
        return new NetConfig
        {
            Network = net,
            SubnetLen = subnetLen,
            SubnetMin = net.Address + step,
            SubnetMax = net.Last - step + 1,
        };
    }

    private static NetConfig Ip6Config(string network, int subnetLen)
    {
        Ip6Net net = Ip6Net.Parse(network);
        UInt128 step = UInt128.One << (128 - subnetLen);
        return new NetConfig
        {
            EnableIPv4 = false,
            EnableIPv6 = true,
            IPv6Network = net,
            IPv6SubnetLen = subnetLen,
            IPv6SubnetMin = net.Address + step,
            IPv6SubnetMax = net.Last - step + UInt128.One,
        };
    }

    /// <summary>The free subnets in address order, by walking every candidate: the slow truth to compare with.</summary>
    private static List<Ip4Net> BruteForceFree(NetConfig config, IReadOnlyList<Ip4Net> taken)
    {
        var free = new List<Ip4Net>();
        for (ulong a = config.SubnetMin; a <= config.SubnetMax; a += 1UL << (32 - config.SubnetLen))
        {
            var candidate = new Ip4Net((uint)a, config.SubnetLen);
            if (!taken.Any(t => t.Overlaps(candidate)))
            {
                free.Add(candidate);
            }
        }

        return free;
    }

    [Fact]
    public void PickIp4_EmptyNetwork_ReturnsCompatibleSubnet()
    {
        NetConfig config = Ip4Config("198.18.0.0/16", 24);
        Ip4Net? picked = SubnetAllocator.PickIp4(config, [], SubnetAllocator.SystemRandom);
        Assert.NotNull(picked);
        Assert.True(SubnetAllocator.IsCompatible(config, picked.Value));
        Assert.NotEqual(Ip4Net.Parse("198.18.0.0/24"), picked.Value);
    }

    [Fact]
    public void PickIp4_SlashTwentyTwoWithSubnetLenTwentyFour_HoldsThreeThenNone()
    {
        NetConfig config = Ip4Config("198.18.0.0/22", 24);
        var taken = new List<Ip4Net>();
        for (int i = 0; i < 3; i++)
        {
            Ip4Net? picked = SubnetAllocator.PickIp4(config, taken, SubnetAllocator.SystemRandom);
            Assert.NotNull(picked);
            taken.Add(picked.Value);
        }

        Assert.Equal(3, taken.Distinct().Count());
        Assert.Equal((UInt128)3, SubnetAllocator.CountIp4(config));
        Assert.Null(SubnetAllocator.PickIp4(config, taken, SubnetAllocator.SystemRandom));
    }

    [Fact]
    public void PickIp4_LargerTakenLeaseOverlapsSeveralCandidates_BlocksAllOfThem()
    {
        NetConfig config = Ip4Config("198.18.0.0/22", 24);

        // A /23 from an older config covers 198.18.2.0 and 198.18.3.0: only 198.18.1.0 stays free.
        Ip4Net? picked = SubnetAllocator.PickIp4(config, [Ip4Net.Parse("198.18.2.0/23")], SubnetAllocator.SystemRandom);
        Assert.Equal(Ip4Net.Parse("198.18.1.0/24"), picked);
    }

    [Fact]
    public void PickIp4_SmallerTakenLeaseInsideCandidate_BlocksThatCandidate()
    {
        NetConfig config = Ip4Config("198.18.0.0/22", 24);
        Ip4Net[] taken = [Ip4Net.Parse("198.18.1.128/26"), Ip4Net.Parse("198.18.3.0/24")];
        Assert.Equal(Ip4Net.Parse("198.18.2.0/24"), SubnetAllocator.PickIp4(config, taken, SubnetAllocator.SystemRandom));
    }

    /// <summary>Random taken subnets inside 198.18.0.0/16, of lengths 20 to 28 (larger and smaller than the candidates).</summary>
    private static readonly Gen<List<Ip4Net>> TakenGen =
        Gen.Select(Gen.UInt[0, 65535], Gen.Int[20, 28])
            .Select(p => new Ip4Net((Ip4.Parse("198.18.0.0") + (p.Item1 << 8)) & Ip4.MaskOf(p.Item2), p.Item2))
            .List[0, 40];

    [Fact]
    public void PickIp4_EveryRank_MapsToTheFreeSubnetsInOrder()
    {
        // The rank -> subnet mapping is a bijection onto the free list, so a uniform rank gives a uniform subnet.
        NetConfig config = Ip4Config("198.18.0.0/16", 22);
        TakenGen.Sample(taken =>
        {
            List<Ip4Net> free = BruteForceFree(config, taken);
            for (int rank = 0; rank < free.Count; rank++)
            {
                int r = rank;
                Assert.Equal(free[rank], SubnetAllocator.PickIp4(config, taken, bound =>
                {
                    Assert.Equal((UInt128)free.Count, bound);
                    return (UInt128)r;
                }));
            }

            if (free.Count == 0)
            {
                Assert.Null(SubnetAllocator.PickIp4(config, taken, SubnetAllocator.SystemRandom));
            }
        }, iter: 200);
    }

    [Fact]
    public void PickIp4_RandomTakenSets_NeverOverlapsAndFindsFreeWhenAnyExists()
    {
        NetConfig config = Ip4Config("198.18.0.0/20", 24);
        TakenGen.Sample(taken =>
        {
            Ip4Net? picked = SubnetAllocator.PickIp4(config, taken, SubnetAllocator.SystemRandom);
            Assert.Equal(BruteForceFree(config, taken).Count > 0, picked.HasValue);
            if (picked is { } p)
            {
                Assert.True(SubnetAllocator.IsCompatible(config, p));
                Assert.DoesNotContain(taken, t => t.Overlaps(p));
            }
        }, iter: 300);
    }

    [Fact]
    public void PickIp6_HugeNetwork_IsFastAndAvoidsTaken()
    {
        // 2001:db8::/32 with /64 subnets: 2^32 - 1 candidates; walking them is out of the question.
        NetConfig config = Ip6Config("2001:db8::/32", 64);
        var taken = new List<Ip6Net>();
        var watch = Stopwatch.StartNew();
        for (int i = 0; i < 2000; i++)
        {
            Ip6Net? picked = SubnetAllocator.PickIp6(config, taken, SubnetAllocator.SystemRandom);
            Assert.NotNull(picked);
            Assert.True(SubnetAllocator.IsCompatible(config, picked.Value));
            taken.Add(picked.Value);
        }

        Assert.Equal(2000, taken.Distinct().Count());
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(10), $"2000 picks took {watch.Elapsed}");
        Assert.Equal((UInt128)uint.MaxValue, SubnetAllocator.CountIp6(config));
    }

    [Fact]
    public void PickIp4_HugeIpv4Network_AvoidsEveryTakenSubnet()
    {
        // 198.0.0.0/8 with /30 subnets: about 4 million candidates; the last free one must still be found by rank.
        NetConfig config = Ip4Config("198.0.0.0/8", 30);
        var taken = new List<Ip4Net> { Ip4Net.Parse("198.0.0.0/9") };
        Assert.Equal(new Ip4Net(Ip4.Parse("198.255.255.252"), 30), SubnetAllocator.PickIp4(config, taken, bound => bound - UInt128.One));
        Assert.Equal(new Ip4Net(Ip4.Parse("198.128.0.0"), 30), SubnetAllocator.PickIp4(config, taken, _ => UInt128.Zero));
    }

    [Fact]
    public void SystemRandom_StaysBelowBound()
    {
        Gen.ULong[1, ulong.MaxValue].Sample(b => Assert.True(SubnetAllocator.SystemRandom(b) < b), iter: 1000);
        Assert.Equal(UInt128.Zero, SubnetAllocator.SystemRandom(UInt128.One));
    }

    [Theory]
    [InlineData("198.18.1.0/24", true)]
    [InlineData("198.18.3.0/24", true)]
    [InlineData("198.18.0.0/24", false)]
    [InlineData("198.18.1.0/25", false)]
    [InlineData("198.18.4.0/24", false)]
    public void IsCompatible_Ip4_ChecksRangeAndLength(string subnet, bool expected)
    {
        Assert.Equal(expected, SubnetAllocator.IsCompatible(Ip4Config("198.18.0.0/22", 24), Ip4Net.Parse(subnet)));
    }
}
