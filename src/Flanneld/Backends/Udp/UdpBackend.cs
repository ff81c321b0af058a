using System.Net;
using Flannel.Core.Config;
using Flannel.Core.Leases;
using Flannel.Core.Net;
using Flannel.Linux.Interfaces;
using Flannel.Linux.Netlink;
using Flannel.Linux.Tun;
using Flanneld.Backends.Routing;
using Microsoft.Extensions.Logging;

namespace Flanneld.Backends.Udp;

/// <summary>
/// The udp backend, wire-compatible with upstream: a TUN device <c>flannel0</c> takes every packet for the cluster
/// network (one route, <c>&lt;Network&gt; dev flannel0</c>), and a userspace forwarder sends each IP packet as one UDP
/// datagram to the node that owns the destination subnet (its public IP, port 8285). Per remote lease the forwarder
/// holds a next hop; the kernel gets nothing per peer. Unlike upstream's one-packet-per-syscall loop, the forwarder takes
/// TCP super-segments from the TUN and batches datagrams (GSO/GRO), falling back to plain I/O where the kernel cannot.
/// </summary>
public sealed class UdpBackend : IBackend
{
    /// <summary>IPv4 (20) + UDP (8): what one datagram adds to the packet it carries.</summary>
    public const int Overhead = 28;

    private readonly Rtnetlink _netlink;
    private readonly ILogger _logger;

    public UdpBackend(Rtnetlink netlink, ILogger logger)
    {
        _netlink = netlink;
        _logger = logger;
    }

    public string Type => "udp";

    public async Task<IBackendNetwork> RegisterNetworkAsync(BackendContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        UdpConfig config = UdpConfig.Parse(context.Config.Backend);
        ExternalInterface iface = context.Interface;
        Ip4Net network = context.Config.Network ?? throw new ConfigException("Network", "the udp backend needs an IPv4 Network");
        IPAddress publicIP = iface.ExternalAddress ?? iface.Address ?? throw new ConfigException("public-ip", $"interface {iface.Name} has no IPv4 address");

        // Upstream's udp backend leaves BackendType empty; so do we, so that mixed clusters agree.
        var attrs = new LeaseAttrs(publicIP);
        var request = new LeaseRequest(context.Config, attrs, context.PreviousSubnetEnv?.Subnet, context.PreviousSubnetEnv?.IPv6Subnet);
        Lease lease = await context.Store.AcquireLeaseAsync(request, cancellationToken);
        Ip4Net subnet = lease.Subnet ?? throw new InvalidOperationException("the udp backend needs an IPv4 lease");

        var tun = TunDevice.Open(new TunOptions { Offload = config.Offload });
        UdpForwarder? forwarder = null;
        try
        {
            int mtu = iface.Mtu - Overhead;
            Link link = await _netlink.GetLinkAsync(tun.Name, cancellationToken);
            await _netlink.SetLinkMtuAsync(link.Index, mtu, cancellationToken);
            await LinkAddressEnsurer.EnsureV4Async(_netlink, link.Index, new IpPrefix(subnet.Canonical.IPAddress, 32), network, cancellationToken);
            await _netlink.SetLinkUpAsync(link.Index, cancellationToken);
            await _netlink.ReplaceRouteAsync(new Route { Destination = network, OutputInterface = link.Index }, cancellationToken);

            var options = new UdpForwarderOptions
            {
                BindAddress = Ip4.FromIPAddress(iface.Address ?? publicIP),
                Port = (ushort)config.Port,
            };
            forwarder = UdpForwarder.Create(tun, config.Offload ? options : options.Plain(), _logger);
            forwarder.Start();
            return new UdpNetwork(lease, mtu, network, context.Config.SubnetLen, (ushort)config.Port, tun, forwarder, _logger);
        }
        catch
        {
            forwarder?.Dispose();
            tun.Dispose();
            throw;
        }
    }

    private sealed class UdpNetwork(Lease lease, int mtu, Ip4Net network, int subnetLen, ushort port, TunDevice tun, UdpForwarder forwarder, ILogger logger) : IBackendNetwork
    {
        private readonly HashSet<string> _skipped = new(StringComparer.Ordinal);

        public Lease Lease => lease;

        public int Mtu => mtu;

        public int ProgrammedEntries => forwarder.Routes.Count;

        public Task SyncAsync(IReadOnlyCollection<Lease> remoteLeases, CancellationToken cancellationToken)
        {
            forwarder.Routes.Replace(remoteLeases
                .Where(Usable)
                .Select(l => KeyValuePair.Create(l.Subnet!.Value, NextHopOf(l))));
            return Task.CompletedTask;
        }

        public Task ApplyAsync(IReadOnlyList<LeaseEvent> events, CancellationToken cancellationToken)
        {
            foreach (LeaseEvent e in events)
            {
                if (e.Type == LeaseEventType.Added && Usable(e.Lease))
                {
                    forwarder.Routes.Set(e.Lease.Subnet!.Value, NextHopOf(e.Lease));
                }
                else if (e.Lease.Subnet is { } subnet)
                {
                    forwarder.Routes.Remove(subnet);
                }
            }

            return Task.CompletedTask;
        }

        /// <summary>The forwarder runs on its own threads; nothing to do here until the daemon stops.</summary>
        public Task RunAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public ValueTask DisposeAsync()
        {
            // Unlike the kernel backends, the data path lives in this process: it stops with the daemon, as upstream's.
            forwarder.Dispose();
            tun.Dispose();
            return ValueTask.CompletedTask;
        }

        private NextHop NextHopOf(Lease l) => new(Ip4.FromIPAddress(l.Attrs.PublicIP), port);

        private bool Usable(Lease l)
        {
            string? reason = PeerChecks.Validate(l, null, network, subnetLen, lease.Subnet!.Value);
            if (reason is not null && _skipped.Add(l.Key + "|" + reason))
            {
                BackendLog.SkippingLease(logger, l.Key, l.Attrs.PublicIP.ToString(), reason);
            }

            return reason is null;
        }
    }
}
