using System.Diagnostics;
using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using Flannel.Linux.Netlink;
using Xunit.Abstractions;

namespace Flannel.Linux.Tests.Netlink;

/// <summary>
/// The backends' scale target: 10,000 peers, each a neighbour + FDB entry + route, programmed in one pipelined batch.
/// Prints the time taken; asserts only a loose bound: the machine is shared, and the kernel's RTNL lock is global, so
/// other namespaces being torn down can stall us for seconds. Route inserts dominate and are kernel-bound (each
/// distinct gateway costs the kernel more as the table grows; <c>ip -batch</c> takes as long).
/// Run alone: dotnet test tests/Flannel.Linux.Tests --filter FullyQualifiedName~BatchScaleTests --logger "console;verbosity=detailed"
/// </summary>
public sealed class BatchScaleTests(ITestOutputHelper output)
{
    [Fact]
    public async Task ExecuteAsync_TenThousandPeers_AllProgrammedQuickly()
    {
        using var ns = new TestNamespace("scale");
        CancellationToken ct = new CancellationTokenSource(TimeSpan.FromSeconds(120)).Token;
        Link underlay = await ns.Netlink.CreateLinkAsync(new VethLinkSpec("eth0", "eth1") { Up = true }, ct);
        await ns.Netlink.AddAddressAsync(underlay.Index, IpPrefix.Parse("192.0.2.1/24"), ct);
        Link vxlan = await ns.Netlink.CreateLinkAsync(
            new VxlanLinkSpec("flannel.1", new VxlanSettings { Vni = 1, Local = IPAddress.Parse("192.0.2.1"), UnderlayIndex = underlay.Index }) { Up = true },
            ct);
        const int Peers = 10_000;
        using var neighbourBatch = new NetlinkBatch();
        using var fdbBatch = new NetlinkBatch();
        using var routeBatch = new NetlinkBatch();
        var build = Stopwatch.StartNew();
        for (int i = 0; i < Peers; i++)
        {
            // 198.18.0.0/15 holds only 512 /24s, so each peer gets a /29 (10,000 of them fit).
            uint subnet = 0xC6120000u + ((uint)i << 3);
            var gateway = new IPAddress(new[] { (byte)(subnet >> 24), (byte)(subnet >> 16), (byte)(subnet >> 8), (byte)subnet });
            var mac = new PhysicalAddress([0x0e, 0, 0, 0, (byte)(i >> 8), (byte)i]);
            neighbourBatch.ReplaceNeighbour(new Neighbour { InterfaceIndex = vxlan.Index, Address = gateway, LinkAddress = mac });
            fdbBatch.ReplaceFdb(new FdbEntry { InterfaceIndex = vxlan.Index, LinkAddress = mac, Destination = IPAddress.Parse($"192.0.2.{(i % 250) + 2}") });
            routeBatch.ReplaceRoute(new Route { Destination = new IpPrefix(gateway, 29), Gateway = gateway, OutputInterface = vxlan.Index, OnLink = true });
        }

        build.Stop();
        using var self = Process.GetCurrentProcess();
        TimeSpan userBefore = self.UserProcessorTime;
        TimeSpan kernelBefore = self.PrivilegedProcessorTime;
        var run = Stopwatch.StartNew();
        NetlinkBatchResult neighboursResult = await ns.Netlink.ExecuteAsync(neighbourBatch, ct);
        TimeSpan neighboursTime = run.Elapsed;
        NetlinkBatchResult fdbResult = await ns.Netlink.ExecuteAsync(fdbBatch, ct);
        TimeSpan fdbTime = run.Elapsed - neighboursTime;
        NetlinkBatchResult routesResult = await ns.Netlink.ExecuteAsync(routeBatch, ct);
        run.Stop();
        TimeSpan routesTime = run.Elapsed - neighboursTime - fdbTime;
        self.Refresh();
        TimeSpan user = self.UserProcessorTime - userBefore;
        TimeSpan kernel = self.PrivilegedProcessorTime - kernelBefore;
        var dump = Stopwatch.StartNew();
        IReadOnlyList<Route> routes = await ns.Netlink.ListRoutesAsync(AddressFamily.InterNetwork, ct);
        IReadOnlyList<Neighbour> neighbours = await ns.Netlink.ListNeighboursAsync(AddressFamily.InterNetwork, vxlan.Index, ct);
        IReadOnlyList<FdbEntry> fdb = await ns.Netlink.ListFdbAsync(vxlan.Index, ct);
        dump.Stop();

        output.WriteLine($"{Peers} peers ({3 * Peers} requests): build {build.ElapsedMilliseconds} ms, execute {run.ElapsedMilliseconds} ms (neighbours {neighboursTime.TotalMilliseconds:F0}, fdb {fdbTime.TotalMilliseconds:F0}, routes {routesTime.TotalMilliseconds:F0}; process CPU user {user.TotalMilliseconds:F0} sys {kernel.TotalMilliseconds:F0}), dump all three tables {dump.ElapsedMilliseconds} ms");
        neighboursResult.ThrowIfFailed();
        fdbResult.ThrowIfFailed();
        routesResult.ThrowIfFailed();
        Assert.Equal(Peers, routes.Count(r => r.OutputInterface == vxlan.Index));
        Assert.Equal(Peers, neighbours.Count);
        Assert.Equal(Peers, fdb.Count(f => f.Destination is not null));
        Assert.True(run.Elapsed < TimeSpan.FromSeconds(60), $"10,000 peers took {run.Elapsed}");
    }
}
