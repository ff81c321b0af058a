using System.Diagnostics;
using System.Globalization;
using Etcdserverpb;
using Flannel.Core.Leases;
using Flannel.Core.Net;
using Flanneld.Leases.Etcd;
using Google.Protobuf;
using Grpc.Net.Client;
using Microsoft.Extensions.Logging.Abstractions;

// Measures the etcd lease watch: (1) store creation to the full snapshot held, with N leases in etcd;
// (2) 1,000 leases written in one transaction until all 1,000 have arrived as events.
// Usage: WatchBench <etcd endpoint> [rounds]
string endpoint = args.Length > 0 ? args[0] : "http://127.0.0.1:2379";
int rounds = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 5;
using GrpcChannel channel = GrpcChannel.ForAddress(endpoint, new GrpcChannelOptions { MaxReceiveMessageSize = null });
var kv = new KV.KVClient(channel);

foreach (int count in new[] { 1000, 10000 })
{
    string prefix = string.Create(CultureInfo.InvariantCulture, $"/bench-{count}-{Environment.ProcessId}/network");
    for (int start = 0; start < count; start += 1000)
    {
        await kv.TxnAsync(Puts(prefix, start, Math.Min(1000, count - start)));
    }

    var snapshotTimes = new List<double>();
    var eventTimes = new List<double>();
    for (int round = 0; round < rounds; round++)
    {
        var clock = Stopwatch.StartNew();
        using var store = new EtcdLeaseStore(new EtcdStoreOptions { Endpoints = [endpoint], Prefix = prefix }, NullLogger<EtcdLeaseStore>.Instance);
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await using IAsyncEnumerator<LeaseWatchBatch> watch = store.WatchLeasesAsync(stop.Token).GetAsyncEnumerator(stop.Token);
        if (!await watch.MoveNextAsync() || watch.Current.Snapshot?.Count != count + (round * 1000))
        {
            throw new InvalidOperationException($"expected a snapshot of {count + (round * 1000)} leases, got {watch.Current.Snapshot?.Count}");
        }

        snapshotTimes.Add(clock.Elapsed.TotalMilliseconds);

        // Give the watch stream a moment to be created, so the timing is delivery, not connection set-up.
        await Task.Delay(200);
        clock.Restart();
        await kv.TxnAsync(Puts(prefix, 100_000 + (round * 1000), 1000));
        int received = 0;
        while (received < 1000 && await watch.MoveNextAsync())
        {
            received += watch.Current.Events.Count;
        }

        eventTimes.Add(clock.Elapsed.TotalMilliseconds);
        await stop.CancelAsync();
        try
        {
            await watch.DisposeAsync();
        }
        catch (OperationCanceledException)
        {
            // The watch ends with the cancellation asked for.
        }
    }

    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"{count,6} leases: snapshot first {snapshotTimes[0],7:F1} ms, median {Median(snapshotTimes),7:F1} ms | 1000-lease txn to 1000 events: first {eventTimes[0],6:F1} ms, median {Median(eventTimes),6:F1} ms ({rounds} rounds; the snapshot grows by 1000 per round)"));
    byte[] end = System.Text.Encoding.UTF8.GetBytes(prefix);
    end[^1]++;
    await kv.DeleteRangeAsync(new DeleteRangeRequest { Key = ByteString.CopyFromUtf8(prefix), RangeEnd = ByteString.CopyFrom(end) });
}

static TxnRequest Puts(string prefix, int start, int count)
{
    var txn = new TxnRequest();
    for (int i = start; i < start + count; i++)
    {
        // Distinct /24s inside 10.0.0.0/8: enough room for 100,000+ leases.
        var subnet = new Ip4Net(Ip4.Parse("10.0.0.0") + ((uint)i << 8), 24);
        var attrs = new LeaseAttrs(Ip4.ToIPAddress(Ip4.Parse("192.0.2.1") + (uint)(i % 200)), null, "vxlan", "{\"VNI\":1,\"VtepMAC\":\"aa:bb:cc:dd:ee:ff\"}");
        txn.Success.Add(new RequestOp
        {
            RequestPut = new PutRequest
            {
                Key = ByteString.CopyFromUtf8($"{prefix}/subnets/{SubnetKey.Format(subnet, null)}"),
                Value = ByteString.CopyFrom(LeaseAttrsJson.Encode(attrs)),
            },
        });
    }

    return txn;
}

static double Median(List<double> values)
{
    var sorted = values.Order().ToList();
    return sorted[sorted.Count / 2];
}
