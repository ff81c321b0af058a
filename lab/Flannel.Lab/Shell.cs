using System.Diagnostics;
using System.Text;

namespace Flannel.Lab;

/// <summary>Runs the lab's plumbing commands (ip netns, etcdctl, ping) and fails loudly with their output.</summary>
public static class Shell
{
    public sealed record Result(int ExitCode, string StdOut, string StdErr)
    {
        public bool Ok => ExitCode == 0;
    }

    public static async Task<Result> RunAsync(string file, IEnumerable<string> args, string? stdin = null, IDictionary<string, string>? env = null, TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        var info = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = stdin is not null,
            UseShellExecute = false,
        };
        foreach (string arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        if (env is not null)
        {
            foreach ((string key, string value) in env)
            {
                info.Environment[key] = value;
            }
        }

        using var process = Process.Start(info) ?? throw new InvalidOperationException($"could not start {file}");
        Task<string> stdout = process.StandardOutput.ReadToEndAsync(cancellationToken);
        Task<string> stderr = process.StandardError.ReadToEndAsync(cancellationToken);
        if (stdin is not null)
        {
            await process.StandardInput.WriteAsync(stdin);
            process.StandardInput.Close();
        }

        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(timeout ?? TimeSpan.FromSeconds(60));
        try
        {
            await process.WaitForExitAsync(limit.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{file} {string.Join(' ', info.ArgumentList)} did not finish in time");
        }

        return new Result(process.ExitCode, await stdout, await stderr);
    }

    public static async Task<string> CheckAsync(string file, IEnumerable<string> args, string? stdin = null, IDictionary<string, string>? env = null, TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        IEnumerable<string> list = args as IList<string> ?? args.ToList();
        Result result = await RunAsync(file, list, stdin, env, timeout, cancellationToken);
        if (!result.Ok)
        {
            var message = new StringBuilder();
            message.Append(file).Append(' ').AppendJoin(' ', list).Append(" exited ").Append(result.ExitCode).Append(": ").Append(result.StdErr.Trim());
            if (result.StdOut.Length > 0)
            {
                message.Append(" | ").Append(result.StdOut.Trim());
            }

            throw new InvalidOperationException(message.ToString());
        }

        return result.StdOut;
    }

    /// <summary>Runs a command inside a network namespace (<c>ip netns exec</c>).</summary>
    public static Task<string> InNamespaceAsync(string ns, string file, params string[] args) =>
        CheckAsync("ip", ["netns", "exec", ns, file, .. args]);
}
