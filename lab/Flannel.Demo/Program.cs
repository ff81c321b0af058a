using System.Globalization;
using System.Runtime.InteropServices;
using Flannel.Core.Config;
using Flannel.Lab;

// The README's demo: a small flannel cluster in network namespaces with a real etcd, flanneld on every node,
// pods attached through the flannel CNI plugin, and pods pinging across nodes. Everything is removed on exit or Ctrl-C.
// "--ipv6" (anywhere) or FLANNEL_DEMO_IPV6=1: dual stack, pods also get IPv6 addresses and ping6 each other.
bool ipv6 = args.Contains("--ipv6") || Environment.GetEnvironmentVariable("FLANNEL_DEMO_IPV6") == "1";
string[] positional = args.Where(a => a != "--ipv6").ToArray();
string backend = positional.Length > 0 ? positional[0] : "vxlan";
int nodes = positional.Length > 1 ? int.Parse(positional[1], CultureInfo.InvariantCulture) : 3;
const int PodsPerNode = 2;

using var stop = new CancellationTokenSource();
// Ctrl-C, or a SIGTERM from a supervisor or `timeout`: stop, and still tear everything down.
using PosixSignalRegistration sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);
using PosixSignalRegistration sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);

var options = new LabOptions
{
    Nodes = nodes,
    IPv6 = ipv6,
    NetConfig = ipv6
        ? $$$"""{"Network":"198.18.0.0/16","SubnetLen":24,"EnableIPv6":true,"IPv6Network":"2001:db8:100::/56","IPv6SubnetLen":64,"Backend":{"Type":"{{{backend}}}"}}"""
        : $$$"""{"Network":"198.18.0.0/16","SubnetLen":24,"Backend":{"Type":"{{{backend}}}"}}""",
};
Console.WriteLine($"== Building a {nodes}-node {(ipv6 ? "dual-stack " : "")}cluster in network namespaces (prefix {options.Prefix}), backend {backend}");
int exitCode = 0;
await using (LabCluster cluster = await LabCluster.CreateAsync(options, stop.Token))
{
    try
    {
        Console.WriteLine($"   etcd at {LabPaths.EtcdEndpoint} in namespace {cluster.UnderlayNamespace}");
        Console.WriteLine($"   net-conf: {await cluster.EtcdCtlAsync("get", "--print-value-only", "/coreos.com/network/config")}");
        foreach (LabNode node in cluster.Nodes)
        {
            node.StartFlanneld();
        }

        Console.WriteLine("== flanneld started on every node; waiting for subnet.env");
        foreach (LabNode node in cluster.Nodes)
        {
            SubnetEnv env = await node.WaitForSubnetEnvAsync(TimeSpan.FromSeconds(30));
            Console.WriteLine($"   {node.Name} ({node.Address}, netns {node.Namespace}): {File.ReadAllText(node.SubnetFile).Replace('\n', ' ')}");
        }

        Console.WriteLine("== Leases in etcd");
        foreach ((string key, string value) in await cluster.GetLeasesAsync())
        {
            Console.WriteLine($"   {key}  {value}");
        }

        if (backend != "alloc")
        {
            await ShowDataPathAsync(cluster, stop.Token);
        }

    }
    catch (OperationCanceledException) when (stop.IsCancellationRequested)
    {
        Console.WriteLine("== Interrupted");
    }
    catch (Exception ex) when (ex is InvalidOperationException or TimeoutException or IOException)
    {
        Console.Error.WriteLine("demo failed: " + ex.Message);
        exitCode = 1;
    }

    if (Environment.GetEnvironmentVariable("FLANNEL_DEMO_HOLD") == "1" && !stop.IsCancellationRequested)
    {
        Console.WriteLine("== Holding the cluster up until Ctrl-C");
        await Task.Delay(Timeout.Infinite, stop.Token).ContinueWith(static _ => { }, TaskScheduler.Default);
    }

    Console.WriteLine("== Tearing down");
}

Console.WriteLine("== Done: namespaces, processes and files removed");
return exitCode;

void OnSignal(PosixSignalContext context)
{
    context.Cancel = true;
    stop.Cancel();
}

static async Task ShowDataPathAsync(LabCluster cluster, CancellationToken cancellationToken)
{
    Console.WriteLine($"== Attaching {PodsPerNode} pods per node through the flannel CNI plugin");
    foreach (LabNode node in cluster.Nodes)
    {
        for (int i = 0; i < PodsPerNode; i++)
        {
            LabPod pod = await node.AddPodAsync();
            Console.WriteLine($"   {pod.Name} on {node.Name}: {pod.Address}{(pod.AddressIPv6 is null ? "" : " " + pod.AddressIPv6)}");
        }
    }

    LabNode first = cluster.Nodes[0];
    Console.WriteLine($"== {first.Name}: routes, neighbours and FDB programmed by flanneld");
    await Task.Delay(500, cancellationToken);
    Console.WriteLine("   $ ip route");
    Console.Write(Indent(await first.IpAsync("route", "show")));
    string links = await first.IpAsync("-o", "link", "show");
    if (cluster.Options.IPv6)
    {
        Console.WriteLine("   $ ip -6 route");
        Console.Write(Indent(await first.IpAsync("-6", "route", "show")));
    }

    string[] devices = ["flannel.1", "flannel-v6.1"];
    foreach (string device in devices.Where(d => links.Contains(" " + d + ":", StringComparison.Ordinal)))
    {
        Console.WriteLine($"   $ ip neigh show dev {device}");
        Console.Write(Indent(await first.IpAsync("neigh", "show", "dev", device)));
        Console.WriteLine($"   $ bridge fdb show dev {device}");
        Console.Write(Indent(await first.ExecAsync("bridge", "fdb", "show", "dev", device)));
    }

    Console.WriteLine("== Every pod pings every pod on the other nodes");
    int ok = 0;
    int total = 0;
    foreach (LabPod from in cluster.Nodes.SelectMany(n => n.Pods))
    {
        foreach (LabPod to in cluster.Nodes.Where(n => n != from.Node).SelectMany(n => n.Pods))
        {
            foreach ((string fromAddress, string toAddress) in to.AddressIPv6 is { } to6 && from.AddressIPv6 is { } from6
                ? new[] { (from.Address, to.Address), (from6, to6) }
                : [(from.Address, to.Address)])
            {
                bool reached = await from.PingAsync(toAddress);
                total++;
                ok += reached ? 1 : 0;
                Console.WriteLine($"   {from.Name} ({fromAddress}) -> {to.Name} ({toAddress}): {(reached ? "ok" : "FAILED")}");
            }
        }
    }

    Console.WriteLine($"   {ok}/{total} cross-node pings answered");
    if (ok != total)
    {
        throw new InvalidOperationException($"{total - ok} cross-node pings failed");
    }
}

static string Indent(string text) => string.Concat(text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => "   " + l + "\n"));
