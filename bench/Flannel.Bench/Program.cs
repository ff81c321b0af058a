using Flannel.Bench;

// Usage: Flannel.Bench <startup|converge|join|memory|iperf> [options]; see bench/run-all.sh.
string what = args.Length > 0 ? args[0] : "";
int Arg(int index, int fallback) => args.Length > index ? int.Parse(args[index], System.Globalization.CultureInfo.InvariantCulture) : fallback;
var report = new Report("bench/run-all.sh " + string.Join(' ', args));
switch (what)
{
    case "startup":
        await StartupBench.RunAsync("alloc", Arg(1, 10), report);
        await StartupBench.RunAsync("vxlan", Arg(1, 10), report);
        break;
    case "converge":
        foreach (string backend in new[] { "vxlan", "host-gw" })
        {
            await ConvergeBench.RunAsync(backend, Arg(1, 1000), Arg(2, 3), Arg(3, 0), report);
        }

        break;
    case "join":
        await JoinBench.RunAsync(Arg(1, 10), report);
        break;
    case "memory":
        await MemoryBench.RunAsync(Arg(1, 3), report);
        break;
    case "iperf":
        foreach (string backend in new[] { "vxlan", "host-gw" })
        {
            await ThroughputBench.RunAsync(backend, Arg(1, 3), Arg(2, 10), report);
        }

        break;
    default:
        Console.Error.WriteLine("usage: Flannel.Bench startup [runs] | converge [leases] [runs] [hold seconds] | join [runs] | memory [runs] | iperf [runs] [seconds]");
        return 2;
}

return 0;
