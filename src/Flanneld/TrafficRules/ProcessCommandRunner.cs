using System.Diagnostics;

namespace Flanneld.TrafficRules;

/// <summary>
/// Runs programs found on PATH (then /usr/sbin and /sbin, where distributions keep the firewall tools but a daemon's
/// PATH may not reach), in the daemon's own network namespace.
/// </summary>
public sealed class ProcessCommandRunner : ICommandRunner
{
    private static readonly string[] FallbackDirectories = ["/usr/sbin", "/sbin", "/usr/bin", "/bin"];

    private readonly Dictionary<string, string?> _paths = new(StringComparer.Ordinal);
    private readonly Lock _pathsLock = new();

    /// <summary>The full path of <paramref name="program"/>, or null when it is not installed.</summary>
    public string? Resolve(string program)
    {
        lock (_pathsLock)
        {
            if (!_paths.TryGetValue(program, out string? path))
            {
                path = Find(program);
                _paths[program] = path;
            }

            return path;
        }
    }

    public async Task<CommandResult> RunAsync(string program, IReadOnlyList<string> arguments, string? standardInput, CancellationToken cancellationToken)
    {
        string path = Resolve(program) ?? throw new FileNotFoundException($"'{program}' was not found on PATH nor in /usr/sbin, /sbin.", program);
        var start = new ProcessStartInfo(path)
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start '{path}'.");
        Task<string> stdout = process.StandardOutput.ReadToEndAsync(cancellationToken);
        Task<string> stderr = process.StandardError.ReadToEndAsync(cancellationToken);
        try
        {
            if (standardInput is not null)
            {
                await process.StandardInput.WriteAsync(standardInput.AsMemory(), cancellationToken).ConfigureAwait(false);
            }

            process.StandardInput.Close();
            await process.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
            return new CommandResult(process.ExitCode, await stdout.ConfigureAwait(false), await stderr.ConfigureAwait(false));
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }
    }

    private static string? Find(string program)
    {
        if (program.Contains('/', StringComparison.Ordinal))
        {
            return File.Exists(program) ? program : null;
        }

        string[] onPath = (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(':', StringSplitOptions.RemoveEmptyEntries);
        foreach (string directory in onPath.Concat(FallbackDirectories))
        {
            string candidate = Path.Combine(directory, program);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        return null;
    }
}
