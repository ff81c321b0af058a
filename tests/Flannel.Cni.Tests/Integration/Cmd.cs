using System.Diagnostics;
using System.Text;

namespace Flannel.Cni.Tests.Integration;

/// <summary>Runs a program to completion and captures its output (test plumbing: ip, the plugin binary).</summary>
internal static class Cmd
{
    public sealed record Outcome(int Exit, string Stdout, string Stderr);

    public static Outcome Run(string file, IEnumerable<string> arguments, string? stdin = null, IReadOnlyDictionary<string, string>? environment = null)
    {
        var start = new ProcessStartInfo(file)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        foreach (string name in start.Environment.Keys.Where(k => k.StartsWith("CNI_", StringComparison.Ordinal)).ToList())
        {
            start.Environment.Remove(name);
        }

        if (environment is not null)
        {
            foreach (KeyValuePair<string, string> variable in environment)
            {
                start.Environment[variable.Key] = variable.Value;
            }
        }

        using Process process = Process.Start(start)!;
        Task<string> stdout = process.StandardOutput.ReadToEndAsync();
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        process.StandardInput.Write(stdin ?? "");
        process.StandardInput.Close();
        if (!process.WaitForExit(60_000))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{file} {string.Join(' ', arguments)} did not finish in 60 s");
        }

        return new Outcome(process.ExitCode, stdout.Result, stderr.Result);
    }

    public static string Ip(params string[] arguments)
    {
        Outcome outcome = Run("ip", arguments);
        if (outcome.Exit != 0)
        {
            throw new InvalidOperationException($"ip {string.Join(' ', arguments)} failed: {outcome.Stderr}");
        }

        return outcome.Stdout;
    }

    public static string Describe(Outcome outcome) =>
        new StringBuilder().Append("exit ").Append(outcome.Exit).Append("; stdout: ").Append(outcome.Stdout).Append("; stderr: ").Append(outcome.Stderr).ToString();
}
