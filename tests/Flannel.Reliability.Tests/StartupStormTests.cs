using System.Diagnostics;
using Flannel.Core.Config;
using Flannel.Lab;
using Xunit.Abstractions;

namespace Flannel.Reliability.Tests;

/// <summary>Case 2: 50 daemons started at the same instant against one etcd all get distinct subnets, within a bound.</summary>
public sealed class StartupStormTests(ITestOutputHelper output)
{
    private const int Daemons = 50;
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(45);

    [Fact]
    public async Task FiftyDaemonsAtOnce_FiftyDistinctSubnets_AllWrittenWithinBound()
    {
        await using LabCluster cluster = await LabCluster.CreateAsync(new LabOptions { Nodes = Daemons, NetConfig = Lab.NetConfig("alloc") });
        var clock = Stopwatch.StartNew();
        foreach (LabNode node in cluster.Nodes)
        {
            node.StartFlanneld();
        }

        SubnetEnv[] envs = await Task.WhenAll(cluster.Nodes.Select(n => n.WaitForSubnetEnvAsync(Bound)));
        TimeSpan allWritten = clock.Elapsed;
        Assert.True(allWritten < Bound, $"all subnet.env written after {allWritten}");
        Assert.Equal(Daemons, envs.Select(e => e.Subnet!.Value.ToString()).Distinct(StringComparer.Ordinal).Count());

        IReadOnlyDictionary<string, string> leases = await cluster.GetLeasesAsync();
        Assert.Equal(Daemons, leases.Count);
        Assert.Equal(
            cluster.Nodes.Select(n => n.Address).Order(StringComparer.Ordinal),
            leases.Values.Select(v => Lab.PublicIpOf(v)!).Order(StringComparer.Ordinal));
        foreach (LabNode node in cluster.Nodes)
        {
            Assert.Equal(node.Address, Lab.PublicIpOf(leases[Lab.KeyOf(envs[node.Index - 1])]));
            Assert.False(node.Flanneld!.HasExited, $"{node.Name} exited:\n{node.Flanneld.ReadLog()}");
        }

        output.WriteLine($"startup storm: {Daemons} subnets in {allWritten.TotalMilliseconds:F0} ms");
    }
}
