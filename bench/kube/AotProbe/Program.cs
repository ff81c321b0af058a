using System.Diagnostics;
using System.Globalization;
using System.Net;
using Flannel.Core.Config;
using Flannel.Core.Leases;
using Flannel.Core.Net;
using Flanneld.Leases.Kubernetes;
using Flanneld.Options;
using Microsoft.Extensions.Logging.Abstractions;

// Usage: AotProbe <api-url>   (a fake API server from `KubeBench serve N`, node worker-00000 is ours)
var clock = Stopwatch.StartNew();
var options = new FlanneldOptions { KubeSubnetMgr = true, KubeApiUrl = args[0], SetNodeNetworkUnavailable = true };
using KubeLeaseStore store = KubeLeaseStore.Create(options, NullLogger.Instance, name => name == "NODE_NAME" ? "worker-00000" : null);
var config = new NetConfig { Network = Ip4Net.Parse("10.64.0.0/10"), SubnetLen = 24 };
var attrs = new LeaseAttrs(IPAddress.Parse("192.0.2.1"), null, "vxlan", "{\"VNI\":1,\"VtepMAC\":\"4a:fe:33:28:ca:bf\"}");
Lease lease = await store.AcquireLeaseAsync(new LeaseRequest(config, attrs), CancellationToken.None);
StoredBackendData stored = await store.GetStoredBackendDataAsync(CancellationToken.None);
Console.WriteLine($"lease {lease.Key}, stored VtepMAC {stored.VtepMac}");
using var stop = new CancellationTokenSource();
await foreach (LeaseWatchBatch batch in store.WatchLeasesAsync(stop.Token))
{
    if (batch.IsSnapshot)
    {
        TimeSpan cpu = Process.GetCurrentProcess().TotalProcessorTime;
        Console.WriteLine(string.Create(
            CultureInfo.InvariantCulture,
            $"first snapshot: {batch.Snapshot!.Count} leases after {clock.Elapsed.TotalMilliseconds:F0} ms, {cpu.TotalMilliseconds:F0} ms CPU, {store.BytesReceived / 1048576.0:F1} MiB read, RSS {Environment.WorkingSet / 1048576} MiB"));
        break;
    }
}

return 0;
