using System.Text.Json.Nodes;

namespace Flannel.Lab;

/// <summary>What a node's kernel holds, read with iproute2's JSON output (the tests' independent observer).</summary>
public static class KernelView
{
    public static Task<List<(string Dst, string? Gateway, string Dev, bool OnLink)>> RoutesAsync(LabNode node) => RoutesAsync(node, ipv6: false);

    /// <summary>The main table's routes of one family (<c>ip [-6] route show</c>).</summary>
    public static async Task<List<(string Dst, string? Gateway, string Dev, bool OnLink)>> RoutesAsync(LabNode node, bool ipv6)
    {
        JsonArray routes = JsonNode.Parse(await node.IpAsync(ipv6 ? ["-6", "-j", "route", "show"] : ["-j", "route", "show"]))!.AsArray();
        return routes.Select(r => (
            (string)r!["dst"]!,
            (string?)r["gateway"],
            (string)r["dev"]!,
            r["flags"]?.AsArray().Any(f => (string?)f == "onlink") == true)).ToList();
    }

    /// <summary>Permanent neighbours on <paramref name="dev"/>; none when the device does not exist (yet).</summary>
    public static async Task<List<(string Address, string? Mac)>> NeighboursAsync(LabNode node, string dev)
    {
        if (await LinkAsync(node, dev) is null)
        {
            return [];
        }

        JsonArray entries = JsonNode.Parse(await node.IpAsync("-j", "neigh", "show", "dev", dev, "nud", "permanent"))!.AsArray();
        return entries.Select(n => ((string)n!["dst"]!, (string?)n["lladdr"])).ToList();
    }

    /// <summary>FDB entries with a remote on <paramref name="dev"/>; none when the device does not exist (yet).</summary>
    public static async Task<List<(string Mac, string? Dst)>> FdbAsync(LabNode node, string dev)
    {
        if (await LinkAsync(node, dev) is null)
        {
            return [];
        }

        JsonArray entries = JsonNode.Parse(await node.ExecAsync("bridge", "-j", "fdb", "show", "dev", dev))!.AsArray();
        return entries.Where(e => e!["dst"] is not null).Select(e => ((string)e!["mac"]!, (string?)e["dst"])).ToList();
    }

    public static async Task<JsonNode?> LinkAsync(LabNode node, string name)
    {
        Shell.Result result = await Shell.RunAsync("ip", ["-n", node.Namespace, "-j", "-d", "link", "show", name]);
        return result.Ok ? JsonNode.Parse(result.StdOut)!.AsArray()[0] : null;
    }

    /// <summary>Polls <paramref name="condition"/> until it holds or <paramref name="timeout"/> passes.</summary>
    public static async Task<bool> EventuallyAsync(Func<Task<bool>> condition, TimeSpan timeout)
    {
        DateTime deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            if (await condition())
            {
                return true;
            }

            if (DateTime.UtcNow > deadline)
            {
                return false;
            }

            await Task.Delay(50);
        }
    }
}
