using System.Diagnostics;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Flannel.Lab.Kubernetes;
using Flanneld.Leases.Kubernetes;
using k8s;
using k8s.Models;

namespace KubeBench;

/// <summary>What reading one node event costs: our field-extracting reader against building the whole object.</summary>
internal static class ParseCost
{
    public static void Report()
    {
        JsonObject node = RealisticNode.Create(42);
        byte[] line = Encoding.UTF8.GetBytes(FakeKubeApiServer.Serialize(new JsonObject { ["type"] = "MODIFIED", ["object"] = node }));
        string objectJson = FakeKubeApiServer.Serialize(node);
        const int Rounds = 20_000;
        Console.WriteLine($"== parsing one node event ({line.Length} bytes), {Rounds} rounds");
        Measure("NodeJson.ReadWatchEvent (fields flannel uses)", Rounds, () => NodeJson.ReadWatchEvent(line, "flannel.alpha.coreos.com/"));
        byte[] metadataLine = Encoding.UTF8.GetBytes(FakeKubeApiServer.Serialize(new JsonObject
        {
            ["type"] = "MODIFIED",
            ["object"] = new JsonObject { ["kind"] = "PartialObjectMetadata", ["apiVersion"] = "meta.k8s.io/v1", ["metadata"] = node["metadata"]!.DeepClone() },
        }));
        Measure($"NodeJson.ReadWatchEvent, metadata-only event ({metadataLine.Length} bytes)", Rounds, () => NodeJson.ReadWatchEvent(metadataLine, "flannel.alpha.coreos.com/"));
        Measure("JsonDocument.Parse (whole DOM)", Rounds, () =>
        {
            using JsonDocument document = JsonDocument.Parse(line);
            return document.RootElement.ValueKind;
        });
        Measure("KubernetesClient V1Node (whole typed object)", Rounds, () => KubernetesJson.Deserialize<V1Node>(objectJson));
    }

    private static void Measure<T>(string name, int rounds, Func<T> parse)
    {
        // Warm up for a second: tiered JIT promotes hot code only after its first ~100 ms.
        var warm = Stopwatch.StartNew();
        while (warm.Elapsed < TimeSpan.FromSeconds(1))
        {
            parse();
        }

        GC.Collect();
        long allocated = GC.GetAllocatedBytesForCurrentThread();
        var clock = Stopwatch.StartNew();
        for (int i = 0; i < rounds; i++)
        {
            parse();
        }

        clock.Stop();
        long perCall = (GC.GetAllocatedBytesForCurrentThread() - allocated) / rounds;
        Console.WriteLine($"{name}: {clock.Elapsed.TotalMicroseconds / rounds:F1} us, {perCall} bytes allocated per event");
    }
}
