// Rule repair time and the CPU cost of a resync pass with nothing to repair, in both modes.
// Run inside a network namespace of its own (run.sh makes one), so the firewall binaries run directly, as in flanneld.
using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using Flannel.Core.Net;
using Flanneld.TrafficRules;
using Microsoft.Extensions.Logging.Abstractions;

int passes = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 200;
bool legacy = args.Length > 3 && args[3] == "legacy";
ICommandRunner runner = legacy ? new LegacyRunner(new ProcessCommandRunner()) : new ProcessCommandRunner();
int repairs = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 20;

// Optionally fill nat and filter with kube-proxy-like rules first, as on a node with many Services.
int kubeRules = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 0;
if (kubeRules > 0)
{
    var fill = new System.Text.StringBuilder("*nat\n:KUBE-SERVICES - [0:0]\n-A PREROUTING -j KUBE-SERVICES\n");
    for (int i = 0; i < kubeRules; i++)
    {
        fill.Append(CultureInfo.InvariantCulture, $"-A KUBE-SERVICES -d 198.19.{i / 250}.{i % 250}/32 -p tcp -m comment --comment \"ns/svc{i}:http cluster IP\" -m tcp --dport 80 -j RETURN\n");
    }

    fill.Append("COMMIT\n*filter\n:KUBE-FORWARD - [0:0]\n-A FORWARD -j KUBE-FORWARD\n");
    for (int i = 0; i < kubeRules / 2; i++)
    {
        fill.Append(CultureInfo.InvariantCulture, $"-A KUBE-FORWARD -d 198.19.{i / 250}.{i % 250}/32 -p tcp -m comment --comment \"ns/svc{i}:http\" -m tcp --dport 80 -j ACCEPT\n");
    }

    fill.Append("COMMIT\n");
    CommandResult filled = await runner.RunAsync("iptables-restore", ["--noflush"], fill.ToString(), CancellationToken.None);
    Console.WriteLine($"filled nat/filter with {kubeRules}/{kubeRules / 2} kube-proxy-like rules: exit {filled.ExitCode}");
}

foreach (bool nftables in legacy ? new[] { false } : [false, true])
{
    using ITrafficManager manager = TrafficManagerFactory.Create(nftables, randomFullyDisabled: false, NullLogger.Instance, runner: runner);
    await manager.CleanUpOtherModeAsync(CancellationToken.None);
    await manager.SetupAndEnsureMasqRulesAsync(Ip4Net.Parse("198.18.0.0/16"), Ip4Net.Parse("198.18.30.0/24"), null, null, CancellationToken.None);
    await manager.SetupAndEnsureForwardRulesAsync(Ip4Net.Parse("198.18.0.0/16"), CancellationToken.None);
    await manager.SetupAndEnsureMasqRulesAsync(Ip6Net.Parse("2001:db8:42::/56"), Ip6Net.Parse("2001:db8:42:1::/64"), null, null, CancellationToken.None);
    await manager.SetupAndEnsureForwardRulesAsync(Ip6Net.Parse("2001:db8:42::/56"), CancellationToken.None);

    for (int i = 0; i < 20; i++)
    {
        await manager.ResyncOnceAsync(CancellationToken.None); // warm-up (JIT)
    }

    Cpu before = Cpu.Now();
    long start = Stopwatch.GetTimestamp();
    for (int i = 0; i < passes; i++)
    {
        if (await manager.ResyncOnceAsync(CancellationToken.None))
        {
            throw new InvalidOperationException("A pass with nothing to repair repaired something.");
        }
    }

    Cpu idle = Cpu.Now() - before;
    double wall = Stopwatch.GetElapsedTime(start).TotalMilliseconds / passes;
    Console.WriteLine(FormattableString.Invariant(
        $"{manager.Mode + (legacy ? "-legacy" : string.Empty),-9} no-op pass (v4+v6, masq+forward): wall {wall:F2} ms, CPU {idle.TotalMs / passes:F2} ms/pass (flanneld {idle.SelfMs / passes:F2} + binaries {idle.ChildrenMs / passes:F2})"));

    string[] delete = nftables
        ? ["nft", "delete", "chain", "ip", "flannel-ipv4", "forward"]
        : [Legacy("iptables"), "-t", "nat", "-D", "FLANNEL-POSTRTG", "1"];
    var repairWall = new List<double>();
    Cpu repairCpu = default;
    for (int i = 0; i < repairs; i++)
    {
        Run(delete);
        Cpu c0 = Cpu.Now();
        long t0 = Stopwatch.GetTimestamp();
        if (!await manager.ResyncOnceAsync(CancellationToken.None))
        {
            throw new InvalidOperationException("A deleted rule was not noticed.");
        }

        repairWall.Add(Stopwatch.GetElapsedTime(t0).TotalMilliseconds);
        repairCpu += Cpu.Now() - c0;
    }

    repairWall.Sort();
    Console.WriteLine(FormattableString.Invariant(
        $"{manager.Mode,-9} repair pass after `{string.Join(' ', delete)}`: wall median {repairWall[repairWall.Count / 2]:F2} ms, max {repairWall[^1]:F2} ms, CPU {repairCpu.TotalMs / repairs:F2} ms/pass"));

    // End to end: the loop at a 1 s period notices a deletion and repairs it within one period.
    using var stop = new CancellationTokenSource();
    Task loop = manager.RunAsync(TimeSpan.FromSeconds(1), stop.Token);
    var latencies = new List<double>();
    for (int i = 0; i < 5; i++)
    {
        await Task.Delay(Random.Shared.Next(100, 900));
        Run(delete);
        long t0 = Stopwatch.GetTimestamp();
        while (!IsInstalled(nftables))
        {
            await Task.Delay(10);
        }

        latencies.Add(Stopwatch.GetElapsedTime(t0).TotalMilliseconds);
    }

    await stop.CancelAsync();
    await loop;
    Console.WriteLine(FormattableString.Invariant(
        $"{manager.Mode,-9} deletion to repaired with --iptables-resync=1: {string.Join(", ", latencies.Select(static l => l.ToString("F0", CultureInfo.InvariantCulture)))} ms (max {latencies.Max():F0} ms)"));
}

bool IsInstalled(bool nftables) => nftables
    ? Run("nft", "list", "table", "ip", "flannel-ipv4").Contains("chain forward", StringComparison.Ordinal)
    : Run(Legacy("iptables"), "-t", "nat", "-S", "FLANNEL-POSTRTG").Contains("0x4000/0x4000", StringComparison.Ordinal);

string Legacy(string program) => legacy ? program.Replace("tables", "tables-legacy", StringComparison.Ordinal) : program;

static string Run(params string[] command)
{
    var start = new ProcessStartInfo(command[0]) { RedirectStandardOutput = true };
    foreach (string argument in command.Skip(1))
    {
        start.ArgumentList.Add(argument);
    }

    using Process process = Process.Start(start)!;
    string output = process.StandardOutput.ReadToEnd();
    process.WaitForExit();
    return output;
}

/// <summary>CPU time of this process and of its waited-for children (getrusage), in ms.</summary>
internal readonly record struct Cpu(double SelfMs, double ChildrenMs)
{
    public double TotalMs => SelfMs + ChildrenMs;

    public static Cpu operator -(Cpu a, Cpu b) => new(a.SelfMs - b.SelfMs, a.ChildrenMs - b.ChildrenMs);

    public static Cpu operator +(Cpu a, Cpu b) => new(a.SelfMs + b.SelfMs, a.ChildrenMs + b.ChildrenMs);

    public static Cpu Now() => new(Usage(0), Usage(-1));

    private static double Usage(int who)
    {
        Span<long> usage = stackalloc long[18];
        if (GetRusage(who, ref MemoryMarshal.GetReference(usage)) != 0)
        {
            throw new InvalidOperationException("getrusage failed");
        }

        return ((usage[0] + usage[2]) * 1000.0) + ((usage[1] + usage[3]) / 1000.0);
    }

    [DllImport("libc", EntryPoint = "getrusage")]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static extern int GetRusage(int who, ref long usage);
}

/// <summary>Runs the xtables-legacy flavour of each iptables binary.</summary>
internal sealed class LegacyRunner(ICommandRunner inner) : ICommandRunner
{
    public Task<CommandResult> RunAsync(string program, IReadOnlyList<string> arguments, string? standardInput, CancellationToken cancellationToken) =>
        inner.RunAsync(program.Replace("tables", "tables-legacy", StringComparison.Ordinal), arguments, standardInput, cancellationToken);
}
