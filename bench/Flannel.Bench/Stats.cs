using System.Globalization;

namespace Flannel.Bench;

internal static class Stats
{
    public static double Median(IReadOnlyList<double> values)
    {
        double[] sorted = [.. values.Order()];
        int n = sorted.Length;
        return n == 0 ? double.NaN : n % 2 == 1 ? sorted[n / 2] : (sorted[(n / 2) - 1] + sorted[n / 2]) / 2;
    }

    /// <summary>"median (min–max, n=…)" with <paramref name="format"/> for each figure.</summary>
    public static string Describe(IReadOnlyList<double> values, string format = "F1") =>
        string.Create(CultureInfo.InvariantCulture,
            $"{Median(values).ToString(format, CultureInfo.InvariantCulture)} (min {values.Min().ToString(format, CultureInfo.InvariantCulture)}, max {values.Max().ToString(format, CultureInfo.InvariantCulture)}, n={values.Count})");

    public static string F(double value, string format = "F1") => value.ToString(format, CultureInfo.InvariantCulture);

    /// <summary>VmHWM and VmRSS of a process in MiB, from /proc.</summary>
    public static (double PeakMiB, double RssMiB) Memory(int pid)
    {
        double peak = 0, rss = 0;
        foreach (string line in File.ReadLines($"/proc/{pid}/status"))
        {
            if (line.StartsWith("RssAnon:", StringComparison.Ordinal) || line.StartsWith("RssFile:", StringComparison.Ordinal))
            {
                Log($"  pid {pid} {line.Replace(" ", "", StringComparison.Ordinal)}");
            }

            if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
            {
                peak = Kib(line) / 1024.0;
            }
            else if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
            {
                rss = Kib(line) / 1024.0;
            }
        }

        return (peak, rss);
    }

    private static long Kib(string line) =>
        long.Parse(line.Split(':', StringSplitOptions.TrimEntries)[1].Split(' ')[0], CultureInfo.InvariantCulture);

    public static void Log(string message) =>
        Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"[{DateTime.UtcNow:HH:mm:ss}] {message}"));

    /// <summary>The last start's log lines, each with its time since the process was spawned (log stamps are ms).</summary>
    public static void LogTimeline(string log, DateTime startedAt)
    {
        foreach (string line in log.Split('\n').Where(l => l.Length > 24 && l[4] == '-'))
        {
            if (DateTime.TryParse(line[..line.IndexOf(' ', StringComparison.Ordinal)], System.Globalization.CultureInfo.InvariantCulture,
                System.Globalization.DateTimeStyles.AdjustToUniversal | System.Globalization.DateTimeStyles.AssumeUniversal, out DateTime at) && at >= startedAt.AddMilliseconds(-1))
            {
                Stats.Log($"  +{Stats.F((at - startedAt).TotalMilliseconds, "F0")} ms {line[(line.IndexOf(' ', StringComparison.Ordinal) + 1)..]}");
            }
        }
    }
}
