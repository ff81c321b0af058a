using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using Flannel.Linux.Namespaces;
using Flannel.Linux.Netlink;

namespace Flannel.Linux.Tests.Namespaces;

public sealed class NetworkNamespaceTests
{
    [Fact]
    public void CreateAndDelete_NamedNamespace_FileAppearsAndGoes()
    {
        string name = $"fnt-{TestNamespace.RunId}-nscreate";
        try
        {
            using (NetworkNamespace ns = NetworkNamespace.Create(name))
            {
                Assert.True(File.Exists(NetworkNamespace.PathOf(name)));
                Assert.Throws<InvalidOperationException>(() => NetworkNamespace.Create(name).Dispose());
            }

            Assert.True(NetworkNamespace.Delete(name));
            Assert.False(File.Exists(NetworkNamespace.PathOf(name)));
            Assert.False(NetworkNamespace.Delete(name));
        }
        finally
        {
            NetworkNamespace.Delete(name);
        }
    }

    [Fact]
    public async Task Open_TwoNamespaces_ConnectionsSeeOnlyTheirOwnLinks()
    {
        using var a = new TestNamespace("isoa");
        using var b = new TestNamespace("isob");
        CancellationToken ct = TestNamespace.Timeout;
        await a.Netlink.CreateLinkAsync(new BridgeLinkSpec("onlyina"), ct);

        IReadOnlyList<Link> inA = await a.Netlink.ListLinksAsync(ct);
        IReadOnlyList<Link> inB = await b.Netlink.ListLinksAsync(ct);

        Assert.Contains(inA, l => l.Name == "onlyina");
        Assert.DoesNotContain(inB, l => l.Name == "onlyina");
        Assert.Equal(["lo"], inB.Select(l => l.Name));
    }

    [Fact]
    public async Task Run_InsideNamespace_ThreadSeesNamespaceInterfaces()
    {
        using var ns = new TestNamespace("run");
        await ns.Netlink.CreateLinkAsync(new BridgeLinkSpec("br-run") { Up = true }, TestNamespace.Timeout);

        string[] names = ns.Namespace.Run(() => NetworkInterface.GetAllNetworkInterfaces().Select(i => i.Name).Order().ToArray());

        Assert.Equal(["br-run", "lo"], names);
    }

    /// <summary>Process.Start forks from the calling thread, so a child started inside Run inherits the namespace (test harnesses).</summary>
    [Fact]
    public async Task Run_StartingAProcess_ChildLivesInTheNamespace()
    {
        using var ns = new TestNamespace("proc");
        // The bind-mounted file and /proc/<pid>/ns/net of a process inside share the namespace's inode.
        string expected = $"net:[{Inode(NetworkNamespace.PathOf(ns.Name))}]";

        using System.Diagnostics.Process child = ns.Namespace.Run(() => System.Diagnostics.Process.Start(
            new System.Diagnostics.ProcessStartInfo("readlink", "/proc/self/ns/net") { RedirectStandardOutput = true })!);
        string output = await child.StandardOutput.ReadToEndAsync();
        await child.WaitForExitAsync();

        Assert.Equal(expected, output.Trim());
    }

    private static ulong Inode(string path)
    {
        using var stat = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("stat", ["-L", "-c", "%i", path]) { RedirectStandardOutput = true })!;
        string text = stat.StandardOutput.ReadToEnd();
        stat.WaitForExit();
        return ulong.Parse(text.Trim(), System.Globalization.CultureInfo.InvariantCulture);
    }

    [Fact]
    public async Task ChangeLinkAsync_MoveToOtherNamespace_LinkMoves()
    {
        using var a = new TestNamespace("mova");
        using var b = new TestNamespace("movb");
        CancellationToken ct = TestNamespace.Timeout;
        Link bridge = await a.Netlink.CreateLinkAsync(new VethLinkSpec("mv0", "mv1"), ct);

        await a.Netlink.ChangeLinkAsync(bridge.Index, new LinkChange { Namespace = b.Namespace.Handle }, ct);

        Assert.Null(await a.Netlink.FindLinkAsync("mv0", ct));
        Assert.NotNull(await b.Netlink.FindLinkAsync("mv0", ct));
    }

    [Fact]
    public async Task Sysctl_AcceptRaOnVxlanInNamespace_WritesAndReadsBack()
    {
        using var ns = new TestNamespace("sysctl");
        await ns.Netlink.CreateLinkAsync(new VxlanLinkSpec("flannel.1", new VxlanSettings { Vni = 1 }), TestNamespace.Timeout);
        string key = Sysctl.IPv6InterfaceKey("flannel.1", "accept_ra");

        Sysctl.Write(ns.Namespace, key, "0");

        Assert.Equal("/proc/sys/net/ipv6/conf/flannel.1/accept_ra", Sysctl.PathOf(key));
        Assert.Equal("0", Sysctl.Read(ns.Namespace, key));
    }

    [Fact]
    public async Task CreateLinkAsync_VxlanWithIPv6Local_ReadsBackLocal6()
    {
        using var ns = new TestNamespace("vx6");
        CancellationToken ct = TestNamespace.Timeout;

        Link vxlan = await ns.Netlink.CreateLinkAsync(
            new VxlanLinkSpec("flannel-v6.1", new VxlanSettings { Vni = 1, Local = IPAddress.Parse("2001:db8::1"), Port = 8472 }), ct);
        var neighbour = new Neighbour { InterfaceIndex = vxlan.Index, Address = IPAddress.Parse("2001:db8:5::"), LinkAddress = PhysicalAddress.Parse("0E-00-00-00-00-06") };
        await ns.Netlink.ReplaceNeighbourAsync(neighbour, ct);

        Assert.Equal(IPAddress.Parse("2001:db8::1"), vxlan.Vxlan!.Local);
        Assert.Contains(await ns.Netlink.ListNeighboursAsync(AddressFamily.InterNetworkV6, vxlan.Index, ct), n => n.Address.Equals(neighbour.Address));
    }
}
