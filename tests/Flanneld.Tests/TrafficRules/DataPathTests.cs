using System.Net;
using System.Net.Sockets;
using Flannel.Core.Net;
using Flanneld.TrafficRules;
using Microsoft.Extensions.Logging.Abstractions;

namespace Flanneld.Tests.TrafficRules;

/// <summary>
/// A "pod" behind a "node" reaches an "internet" host (192.0.2.200, in a namespace of ours) that has no route back to
/// the pod network: only masquerading makes the pod's datagram arrive from the node's address and the reply return.
/// </summary>
public sealed class DataPathTests : IDisposable
{
    private readonly TestNetns _node = new("dp-node");
    private readonly TestNetns _pod = new("dp-pod");
    private readonly TestNetns _internet = new("dp-inet");

    public DataPathTests()
    {
        TestNetns.Run("ip", "-n", _node.Name, "link", "add", "vpod", "type", "veth", "peer", "name", "eth0", "netns", _pod.Name);
        TestNetns.Run("ip", "-n", _node.Name, "link", "add", "eth0", "type", "veth", "peer", "name", "eth0", "netns", _internet.Name);
        _node.Exec("ip", "addr", "add", "198.18.30.1/24", "dev", "vpod");
        _node.Exec("ip", "addr", "add", "192.0.2.1/24", "dev", "eth0");
        _pod.Exec("ip", "addr", "add", "198.18.30.2/24", "dev", "eth0");
        _internet.Exec("ip", "addr", "add", "192.0.2.200/24", "dev", "eth0");
        foreach ((TestNetns ns, string[] links) in new[] { (_node, new[] { "lo", "vpod", "eth0" }), (_pod, ["lo", "eth0"]), (_internet, ["lo", "eth0"]) })
        {
            foreach (string link in links)
            {
                ns.Exec("ip", "link", "set", link, "up");
            }
        }

        _pod.Exec("ip", "route", "add", "default", "via", "198.18.30.1");
        _node.Exec("sysctl", "-q", "-w", "net.ipv4.ip_forward=1");
    }

    public void Dispose()
    {
        _pod.Dispose();
        _internet.Dispose();
        _node.Dispose();
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task MasqRules_PodToInternet_ArrivesFromNodeAddressAndReplyReturns(bool nftables)
    {
        using ITrafficManager manager = TrafficManagerFactory.Create(nftables, randomFullyDisabled: false, NullLogger.Instance, runner: _node.Runner);
        await manager.SetupAndEnsureMasqRulesAsync(Ip4Net.Parse("198.18.0.0/16"), Ip4Net.Parse("198.18.30.0/24"), null, null, CancellationToken.None);
        await manager.SetupAndEnsureForwardRulesAsync(Ip4Net.Parse("198.18.0.0/16"), CancellationToken.None);

        using Socket server = NetnsSocket.Udp(_internet.Name);
        server.Bind(new IPEndPoint(IPAddress.Parse("192.0.2.200"), 0));
        var serverEndPoint = (IPEndPoint)server.LocalEndPoint!;
        using Socket client = NetnsSocket.Udp(_pod.Name);
        client.Bind(new IPEndPoint(IPAddress.Parse("198.18.30.2"), 0));
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));

        await client.SendToAsync("hello"u8.ToArray(), serverEndPoint, timeout.Token);
        byte[] buffer = new byte[64];
        SocketReceiveFromResult received = await server.ReceiveFromAsync(buffer, new IPEndPoint(IPAddress.Any, 0), timeout.Token);
        var source = (IPEndPoint)received.RemoteEndPoint;
        await server.SendToAsync(buffer.AsMemory(0, received.ReceivedBytes), source, timeout.Token);
        SocketReceiveFromResult reply = await client.ReceiveFromAsync(buffer, new IPEndPoint(IPAddress.Any, 0), timeout.Token);

        Assert.Equal(IPAddress.Parse("192.0.2.1"), source.Address);
        Assert.Equal("hello", System.Text.Encoding.ASCII.GetString(buffer, 0, reply.ReceivedBytes));
        Assert.Equal(serverEndPoint, reply.RemoteEndPoint);
    }

    [Fact]
    public async Task NoMasqRules_PodToInternet_ArrivesFromPodAddress()
    {
        using Socket server = NetnsSocket.Udp(_internet.Name);
        server.Bind(new IPEndPoint(IPAddress.Parse("192.0.2.200"), 0));
        using Socket client = NetnsSocket.Udp(_pod.Name);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));

        await client.SendToAsync("hello"u8.ToArray(), server.LocalEndPoint!, timeout.Token);
        SocketReceiveFromResult received = await server.ReceiveFromAsync(new byte[64], new IPEndPoint(IPAddress.Any, 0), timeout.Token);

        Assert.Equal(IPAddress.Parse("198.18.30.2"), ((IPEndPoint)received.RemoteEndPoint).Address);
    }
}
