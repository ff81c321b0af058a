using System.Diagnostics;

namespace Flannel.Lab;

/// <summary>A long-running program inside a lab namespace (etcd, flanneld), its output appended to a log file.</summary>
public sealed class LabProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StreamWriter _log;
    private readonly Task _pump;

    private LabProcess(Process process, StreamWriter log, string logPath)
    {
        _process = process;
        _log = log;
        LogPath = logPath;
        _pump = Task.WhenAll(Pump(process.StandardOutput), Pump(process.StandardError));
    }

    public string LogPath { get; }

    public int Id => _process.Id;

    public bool HasExited => _process.HasExited;

    /// <summary>The exit code once the process has exited.</summary>
    public int ExitCode => _process.ExitCode;

    /// <summary>SIGKILL, no grace: the crash a supervisor sees. Returns once the process is gone.</summary>
    public async Task Kill9Async()
    {
        Signal("KILL");
        await _process.WaitForExitAsync();
        await _pump;
    }

    public static LabProcess Start(string ns, string file, IEnumerable<string> args, string logPath, IDictionary<string, string>? env = null)
    {
        var info = new ProcessStartInfo("ip")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string arg in (string[])["netns", "exec", ns, file, .. args])
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

        var log = new StreamWriter(new FileStream(logPath, FileMode.Append, FileAccess.Write, FileShare.ReadWrite)) { AutoFlush = true };
        var process = Process.Start(info) ?? throw new InvalidOperationException($"could not start {file}");
        return new LabProcess(process, log, logPath);
    }

    public string ReadLog()
    {
        using var stream = new FileStream(LogPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }

    /// <summary>Sends a signal (ip netns exec execs the program, so the pid is the program's own).</summary>
    public void Signal(string signal)
    {
        if (!_process.HasExited)
        {
            using var kill = Process.Start("kill", ["-" + signal, _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
            kill?.WaitForExit();
        }
    }

    /// <summary>SIGTERM, then SIGKILL if it has not exited within <paramref name="grace"/>. Returns the exit code.</summary>
    public async Task<int> StopAsync(TimeSpan grace)
    {
        Signal("TERM");
        using var timeout = new CancellationTokenSource(grace);
        try
        {
            await _process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        await _pump;
        return _process.ExitCode;
    }

    public async Task<int> KillAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
        }

        await _process.WaitForExitAsync();
        await _pump;
        return _process.ExitCode;
    }

    public Task WaitForExitAsync(CancellationToken cancellationToken) => _process.WaitForExitAsync(cancellationToken);

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            await KillAsync();
        }

        await _log.DisposeAsync();
        _process.Dispose();
    }

    private async Task Pump(StreamReader reader)
    {
        char[] buffer = new char[4096];
        int read;
        while ((read = await reader.ReadAsync(buffer)) > 0)
        {
            lock (_log)
            {
                _log.Write(buffer, 0, read);
            }
        }
    }
}
