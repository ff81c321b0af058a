using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Flannel.Core.Leases;
using Flannel.Lab.Kubernetes;
using Flanneld.Leases.Kubernetes;
using Flanneld.Options;
using KubeBench;
using Microsoft.Extensions.Logging.Abstractions;

// Usage: KubeBench [--full] [nodes...]   measures the store against a fake API server holding that many nodes
//                                       (--full: watch whole Nodes, as upstream, instead of metadata only)
//        KubeBench serve N              (internal) the fake API server, driven over stdin/stdout
if (args is ["serve", string count])
{
    await ServeAsync(int.Parse(count, CultureInfo.InvariantCulture));
    return 0;
}

bool fullNodes = args.Contains("--full");
string[] counts = args.Where(a => a != "--full").ToArray();
int[] sizes = counts.Length > 0 ? counts.Select(a => int.Parse(a, CultureInfo.InvariantCulture)).ToArray() : [1000, 5000];
ParseCost.Report();
foreach (int n in sizes)
{
    await MeasureAsync(n, fullNodes);
}

return 0;

static async Task MeasureAsync(int nodes, bool fullNodes)
{
    string self = Environment.ProcessPath!;
    var start = new ProcessStartInfo(self) { RedirectStandardInput = true, RedirectStandardOutput = true, UseShellExecute = false };
    if (Path.GetFileNameWithoutExtension(self) == "dotnet")
    {
        start.ArgumentList.Add(typeof(RealisticNode).Assembly.Location);
    }

    start.ArgumentList.Add("serve");
    start.ArgumentList.Add(nodes.ToString(CultureInfo.InvariantCulture));
    using Process server = Process.Start(start)!;
    try
    {
        string url = (await server.StandardOutput.ReadLineAsync())!["url ".Length..];
        string[] sizeLine = (await Ask(server, "sizes")).Split(' ');
        Console.WriteLine($"== {nodes} nodes, {(fullNodes ? "whole-Node watch" : "metadata-only watch")} (one node: {sizeLine[1]} bytes as a Node, {sizeLine[2]} as PartialObjectMetadata)");

        GC.Collect();
        long rssBefore = Rss("VmRSS");
        var options = new FlanneldOptions { KubeSubnetMgr = true, KubeApiUrl = url, SetNodeNetworkUnavailable = false };
        using KubeLeaseStore store = KubeLeaseStore.Create(options, NullLogger.Instance, name => name switch
        {
            "NODE_NAME" => "worker-00000",
            "KUBE_WATCH_FULL_NODES" => fullNodes ? "true" : null,
            _ => null,
        });
        using var stop = new CancellationTokenSource();
        var firstSnapshot = new TaskCompletionSource<int>();
        long events = 0;
        var clock = Stopwatch.StartNew();
        TimeSpan startCpu = Process.GetCurrentProcess().TotalProcessorTime;
        var snapshots = new List<TaskCompletionSource<int>> { firstSnapshot };
        Task pump = Task.Run(async () =>
        {
            try
            {
                await foreach (LeaseWatchBatch batch in store.WatchLeasesAsync(stop.Token))
                {
                    if (batch.IsSnapshot)
                    {
                        lock (snapshots)
                        {
                            snapshots[^1].TrySetResult(batch.Snapshot!.Count);
                        }
                    }

                    Interlocked.Add(ref events, batch.Events.Count);
                }
            }
            catch (OperationCanceledException)
            {
            }
        });
        int leases = await firstSnapshot.Task;
        TimeSpan toSnapshot = clock.Elapsed;
        TimeSpan snapshotCpu = Process.GetCurrentProcess().TotalProcessorTime - startCpu;
        long rssAfter = Rss("VmRSS");
        GC.Collect();
        long rssSettled = Rss("VmRSS");
        Console.WriteLine($"start -> first snapshot: {toSnapshot.TotalMilliseconds:F0} ms wall ({snapshotCpu.TotalMilliseconds:F0} ms CPU in the store's process, cold JIT), {leases} leases, list {store.BytesReceived / 1024.0 / 1024.0:F1} MiB");
        Console.WriteLine($"RSS: {rssBefore / 1024} MiB before the store, {rssAfter / 1024} MiB at the snapshot, {rssSettled / 1024} MiB after a GC, peak {Rss("VmHWM") / 1024} MiB");

        await Task.Delay(500);
        foreach ((string kind, bool relevant, bool report) in new[] { ("heartbeat", false, false), ("heartbeat", false, true), ("relevant", true, true) })
        {
            int updates = Math.Min(nodes, 2000);
            long bytes0 = store.BytesReceived;
            long events0 = Interlocked.Read(ref events);
            TimeSpan cpu0 = Process.GetCurrentProcess().TotalProcessorTime;
            long sent = long.Parse((await Ask(server, $"{kind} {updates}")).Split(' ')[1], CultureInfo.InvariantCulture);
            var wait = Stopwatch.StartNew();
            while ((store.BytesReceived - bytes0 < sent || (relevant && Interlocked.Read(ref events) - events0 < updates)) && wait.Elapsed < TimeSpan.FromSeconds(60))
            {
                await Task.Delay(5);
            }

            TimeSpan cpu = Process.GetCurrentProcess().TotalProcessorTime - cpu0;
            long got = store.BytesReceived - bytes0;
            if (!report)
            {
                continue;
            }

            Console.WriteLine($"{updates} {(relevant ? "relevant updates (new VtepMAC)" : "status heartbeats (no lease change)")}: {got / updates} bytes and {cpu.TotalMicroseconds / updates:F0} us CPU per update, {Interlocked.Read(ref events) - events0} lease events");
        }

        // A warm re-list: history compacted and the watch closed, so the store must list again (410 Expired).
        var again = new TaskCompletionSource<int>();
        lock (snapshots)
        {
            snapshots.Add(again);
        }

        TimeSpan relistCpu0 = Process.GetCurrentProcess().TotalProcessorTime;
        var relistClock = Stopwatch.StartNew();
        await Ask(server, "expire");
        await again.Task;
        Console.WriteLine($"warm re-list after 410: {relistClock.Elapsed.TotalMilliseconds:F0} ms wall, {(Process.GetCurrentProcess().TotalProcessorTime - relistCpu0).TotalMilliseconds:F0} ms CPU in the store's process");

        await stop.CancelAsync();
        await pump;
    }
    finally
    {
        await server.StandardInput.WriteLineAsync("quit");
        await server.WaitForExitAsync();
    }
}

static async Task<string> Ask(Process server, string command)
{
    await server.StandardInput.WriteLineAsync(command);
    await server.StandardInput.FlushAsync();
    return (await server.StandardOutput.ReadLineAsync())!;
}

static long Rss(string field)
{
    foreach (string line in File.ReadLines("/proc/self/status"))
    {
        if (line.StartsWith(field + ":", StringComparison.Ordinal))
        {
            return long.Parse(line[(field.Length + 1)..].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
        }
    }

    return 0;
}

static async Task ServeAsync(int nodes)
{
    await using FakeKubeApiServer server = await FakeKubeApiServer.StartAsync();
    server.BookmarkInterval = TimeSpan.FromSeconds(60);
    for (int i = 0; i < nodes; i++)
    {
        server.AddNode(RealisticNode.Create(i));
    }

    Console.WriteLine("url " + server.BaseUri);
    int tick = 0;
    while (Console.ReadLine() is { } line)
    {
        string[] parts = line.Split(' ');
        switch (parts[0])
        {
            case "sizes":
                JsonObject node = RealisticNode.Create(1);
                var metadataOnly = new JsonObject { ["kind"] = "PartialObjectMetadata", ["apiVersion"] = "meta.k8s.io/v1", ["metadata"] = node["metadata"]!.DeepClone() };
                Console.WriteLine($"sizes {Encoding.UTF8.GetByteCount(FakeKubeApiServer.Serialize(node))} {Encoding.UTF8.GetByteCount(FakeKubeApiServer.Serialize(metadataOnly))}");
                break;
            case "heartbeat" or "relevant":
                long before = server.WatchBytes;
                int count = int.Parse(parts[1], CultureInfo.InvariantCulture);
                for (int i = 0; i < count; i++)
                {
                    string name = string.Create(CultureInfo.InvariantCulture, $"worker-{i % nodes:D5}");
                    tick++;
                    server.UpdateNode(name, n =>
                    {
                        if (parts[0] == "heartbeat")
                        {
                            n["status"]!["conditions"]![4]!["lastHeartbeatTime"] = string.Create(CultureInfo.InvariantCulture, $"2026-11-25T22:{tick / 60 % 60:D2}:{tick % 60:D2}Z");
                        }
                        else
                        {
                            n["metadata"]!["annotations"]!["flannel.alpha.coreos.com/backend-data"] = string.Create(CultureInfo.InvariantCulture, $"{{\"VNI\":1,\"VtepMAC\":\"4a:fe:00:{tick >> 8 & 0xff:x2}:{tick & 0xff:x2}:01\"}}");
                        }
                    });
                }

                // Let the watch stream drain before reporting what it carried.
                long last = -1;
                while (server.WatchBytes != last)
                {
                    last = server.WatchBytes;
                    await Task.Delay(200);
                }

                Console.WriteLine($"done {server.WatchBytes - before}");
                break;
            case "expire":
                server.Atomically(() =>
                {
                    server.UpdateNode("worker-00001", n => n["metadata"]!["labels"]!["bench"] = "expire");
                    server.Compact();
                });
                Console.WriteLine("expired");
                break;
            case "quit":
                return;
        }
    }
}
