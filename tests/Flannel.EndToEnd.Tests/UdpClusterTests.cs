using System.Text.Json.Nodes;
using Flannel.Core.Config;
using Flannel.Lab;

namespace Flannel.EndToEnd.Tests;

public sealed class UdpClusterTests(UdpFixture fixture) : IClassFixture<UdpFixture>
{
    [Fact]
    public async Task Start_TunRouteMtuAndLeaseAsUpstream()
    {
        LabNode node = fixture.Cluster.Nodes[0];
        Assert.Equal(1472, fixture.Env[node].Mtu);
        JsonNode link = (await KernelView.LinkAsync(node, "flannel0"))!;
        Assert.Equal(1472, (int)link["mtu"]!);
        Assert.Contains(("198.18.0.0/16", (string?)null, "flannel0", false), await KernelView.RoutesAsync(node));
        IReadOnlyDictionary<string, string> leases = await fixture.Cluster.GetLeasesAsync();
        Assert.Contains($$"""{"PublicIP":"{{node.Address}}","PublicIPv6":null}""", leases.Values);
    }

    [Fact]
    public async Task Pods_PingAcrossNodes_AndTcpTransferArrivesIntact()
    {
        Assert.True(await KernelView.EventuallyAsync(async () => (await fixture.CrossNodePingFailuresAsync()).Count == 0, TimeSpan.FromSeconds(10)),
            string.Join('\n', await fixture.CrossNodePingFailuresAsync()));
        (var client, var server) = await PodSockets.ConnectAsync(fixture.Cluster.Nodes[0].Pods[0], fixture.Cluster.Nodes[2].Pods[0], 5003);
        using (client)
        using (server)
        {
            Assert.True(await PodSockets.TransferIntactAsync(client, server, 16 << 20));
        }
    }

    [Fact]
    public async Task MalformedDatagramsAtThePort_ChangeNothing()
    {
        LabNode target = fixture.Cluster.Nodes[1];
        using (Flannel.Linux.Namespaces.NetworkNamespace ns = Flannel.Linux.Namespaces.NetworkNamespace.Open(fixture.Cluster.Nodes[0].Namespace))
        using (var socket = ns.Run(() => new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.InterNetwork, System.Net.Sockets.SocketType.Dgram, System.Net.Sockets.ProtocolType.Udp)))
        {
            var endpoint = new System.Net.IPEndPoint(System.Net.IPAddress.Parse(target.Address), 8285);
            byte[][] garbage =
            [
                [],
                [0x45],
                [0x60, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
                [0x45, 0, 0xff, 0xff, 0, 0, 0, 0, 64, 17, 0, 0, 198, 18, 1, 1, 198, 18, 2, 2],
                System.Security.Cryptography.RandomNumberGenerator.GetBytes(1400),
            ];
            for (int i = 0; i < 200; i++)
            {
                await socket.SendToAsync(garbage[i % garbage.Length], endpoint);
            }
        }

        await Task.Delay(200);
        Assert.False(target.Flanneld!.HasExited);
        Assert.Empty(await fixture.CrossNodePingFailuresAsync());
    }

    [Fact]
    public async Task NodeLeaves_OtherForwardersDropItsNextHop_AndTheRestStillPing()
    {
        LabNode leaving = await fixture.Cluster.AddNodeAsync();
        leaving.StartFlanneld();
        SubnetEnv env = await leaving.WaitForSubnetEnvAsync(TimeSpan.FromSeconds(30));
        string subnet = env.Subnet!.Value.ToString();

        // flannel0 of the leaving node holds <subnet>.0: while its lease stands, pods elsewhere reach it through the tunnel.
        string target = env.Subnet!.Value.IPAddress.ToString();
        List<LabPod> observers = fixture.Cluster.Nodes.Where(n => n != leaving).SelectMany(n => n.Pods).ToList();
        foreach (LabPod pod in observers)
        {
            Assert.True(await KernelView.EventuallyAsync(() => pod.PingAsync(target), TimeSpan.FromSeconds(10)),
                $"{pod.Name} cannot reach {target} on the new node:\n{leaving.Flanneld!.ReadLog()}");
        }

        Assert.Equal(0, await leaving.Flanneld!.StopAsync(TimeSpan.FromSeconds(10)));

        // Stopped but still leased: the next hop stays, so the datagrams go to a closed port and the ping times out.
        Assert.DoesNotContain("Unreachable", await PingOutputAsync(observers[0], target), StringComparison.Ordinal);
        await fixture.Cluster.EtcdCtlAsync("del", "/coreos.com/network/subnets/" + subnet.Replace('/', '-'));

        // Without the next hop the forwarder answers ICMP net unreachable itself; with a stale one the datagrams
        // would go to a closed port and the ping would just time out.
        foreach (LabPod pod in observers)
        {
            Assert.True(await KernelView.EventuallyAsync(async () => (await PingOutputAsync(pod, target)).Contains("Destination Net Unreachable", StringComparison.Ordinal), TimeSpan.FromSeconds(10)),
                $"{pod.Name} got no net unreachable for {target}: {await PingOutputAsync(pod, target)}\n{pod.Node.Flanneld!.ReadLog()}");
        }

        Assert.Empty(await fixture.CrossNodePingFailuresAsync());
    }

    private static async Task<string> PingOutputAsync(LabPod pod, string address) =>
        (await Shell.RunAsync("ip", ["netns", "exec", pod.Namespace, "ping", "-n", "-c", "1", "-W", "1", address])).StdOut;
}
