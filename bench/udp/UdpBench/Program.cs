using System.Globalization;
using System.Runtime.InteropServices;
using Flannel.Core.Net;
using Flannel.Linux.Tun;
using Flanneld.Backends.Udp;

// One benchmark "node": opens flannel0 and runs the udp forwarder in the network namespace it was started in
// (the script uses `ip netns exec`), until SIGTERM; then prints its counters.
// Usage: UdpBench --bind 192.0.2.1 --route 198.18.2.0/24=192.0.2.2 --mode offload|plain|no-gso|no-gro|no-coalesce|no-tso|mq2|buf4m|yield0|yield2|yield4 [--queues N]
string bind = "", mode = "offload";
int queues = 1;
var routes = new List<(Ip4Net Subnet, NextHop Hop)>();
for (int i = 0; i + 1 < args.Length; i += 2)
{
    switch (args[i])
    {
        case "--bind": bind = args[i + 1]; break;
        case "--mode": mode = args[i + 1]; break;
        case "--queues": queues = int.Parse(args[i + 1], CultureInfo.InvariantCulture); break;
        case "--route":
            string[] parts = args[i + 1].Split('=');
            routes.Add((Ip4Net.Parse(parts[0]), new NextHop(Ip4.Parse(parts[1]), UdpForwarderOptions.DefaultPort)));
            break;
        default: throw new ArgumentException($"unknown argument '{args[i]}'");
    }
}

var options = new UdpForwarderOptions { BindAddress = Ip4.Parse(bind) };
bool tunOffload = true;
switch (mode)
{
    case "offload": break;
    case "plain": options = options.Plain(); tunOffload = false; break;
    case "no-gso": options = options with { UdpGso = false }; break;
    case "no-gro": options = options with { UdpGro = false }; break;
    case "no-coalesce": options = options with { Coalesce = false }; break;
    case "no-tso": tunOffload = false; break;
    case "mq2": queues = 2; break;
    case "buf4m": options = options with { SocketBufferBytes = 4 << 20 }; break;
    case "yield0": options = options with { YieldsBeforeSleep = 0 }; break;
    case "yield2": options = options with { YieldsBeforeSleep = 2 }; break;
    case "yield4": options = options with { YieldsBeforeSleep = 4 }; break;
    default: throw new ArgumentException($"unknown mode '{mode}'");
}

using TunDevice tun = TunDevice.Open(new TunOptions { Offload = tunOffload, Queues = queues });
using UdpForwarder forwarder = UdpForwarder.Create(tun, options);
foreach ((Ip4Net subnet, NextHop hop) in routes)
{
    forwarder.Routes.Set(subnet, hop);
}

forwarder.Start();
Console.WriteLine($"ready tun={tun.Name} offload={forwarder.UsesTunOffload} gso={forwarder.UsesUdpGso} gro={forwarder.UsesUdpGro} coalesce={forwarder.UsesCoalescing}");
using var stop = new ManualResetEventSlim();
using PosixSignalRegistration term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; stop.Set(); });
using PosixSignalRegistration intr = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => { c.Cancel = true; stop.Set(); });
stop.Wait();
forwarder.Stop();
Console.WriteLine(forwarder.Counters);
