using Flannel.Testing;
using Flannel.Core.Net;
using Flannel.Linux.Tun;
using Flanneld.Backends.Udp;

namespace Flanneld.Tests.Backends.Udp;

/// <summary>
/// Two namespace "nodes" on a veth underlay (192.0.2.1, 192.0.2.2), each with flannel0 driven by an in-process
/// forwarder and a pod address on its loopback (this kernel has no dummy links) (198.18.1.2 on node1's 198.18.1.0/24, 198.18.2.2 on node2's).
/// The underlay, flannel0 address/MTU/route and the pod address are plumbed with <c>ip</c> until the netlink layer lands.
/// </summary>
internal sealed class TwoNodeLab : IDisposable
{
    public static readonly uint Pod1 = Ip4.Parse("198.18.1.2");
    public static readonly uint Pod2 = Ip4.Parse("198.18.2.2");

    private readonly List<IDisposable> _owned = [];

    public TwoNodeLab(string name, UdpForwarderOptions? node1Mode, UdpForwarderOptions? node2Mode, bool node2Forwarder = true, int queues = 1)
    {
        try
        {
            Node1 = Own(ShellTestNamespace.Create($"{name}-n1"));
            Node2 = Own(ShellTestNamespace.Create($"{name}-n2"));
            Node1.Ip($"link add eth0 type veth peer name eth0 netns {Node2.Name}");
            Plumb(Node1, 1);
            Plumb(Node2, 2);
            Forwarder1 = StartForwarder(Node1, 1, node1Mode ?? Offloaded, queues);
            Forwarder1.Routes.Set(Ip4Net.Parse("198.18.2.0/24"), new NextHop(Ip4.Parse("192.0.2.2"), UdpForwarderOptions.DefaultPort));
            if (node2Forwarder)
            {
                Forwarder2 = StartForwarder(Node2, 2, node2Mode ?? Offloaded, queues);
                Forwarder2.Routes.Set(Ip4Net.Parse("198.18.1.0/24"), new NextHop(Ip4.Parse("192.0.2.1"), UdpForwarderOptions.DefaultPort));
            }
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    public static UdpForwarderOptions Offloaded { get; } = new();

    public static UdpForwarderOptions Plain { get; } = new UdpForwarderOptions().Plain();

    public ShellTestNamespace Node1 { get; } = null!;

    public ShellTestNamespace Node2 { get; } = null!;

    public UdpForwarder Forwarder1 { get; } = null!;

    public UdpForwarder? Forwarder2 { get; }

    public static bool IsPlain(UdpForwarderOptions mode) => !mode.UdpGso && !mode.UdpGro;

    public void Dispose()
    {
        // Forwarders stop before their TUNs close; namespaces go last.
        for (int i = _owned.Count - 1; i >= 0; i--)
        {
            _owned[i].Dispose();
        }
    }

    private static void Plumb(ShellTestNamespace ns, int node)
    {
        ns.Ip($"addr add 192.0.2.{node}/24 dev eth0");
        ns.Ip("link set eth0 up");
        ns.Ip($"addr add 198.18.{node}.2/32 dev lo");
    }

    private T Own<T>(T disposable)
        where T : IDisposable
    {
        _owned.Add(disposable);
        return disposable;
    }

    private UdpForwarder StartForwarder(ShellTestNamespace ns, int node, UdpForwarderOptions mode, int queues)
    {
        UdpForwarderOptions options = mode with { BindAddress = Ip4.Parse($"192.0.2.{node}") };
        TunDevice tun = Own(ns.Enter(() => TunDevice.Open(new TunOptions { Offload = !IsPlain(mode), Queues = queues })));
        UdpForwarder forwarder = Own(ns.Enter(() => UdpForwarder.Create(tun, options)));
        ns.Ip($"addr add 198.18.{node}.0/32 dev flannel0");
        ns.Ip("link set flannel0 mtu 1472 up");
        ns.Ip("route add 198.18.0.0/16 dev flannel0");
        forwarder.Start();
        return forwarder;
    }
}
