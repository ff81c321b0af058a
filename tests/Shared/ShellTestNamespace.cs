using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Security.Cryptography;

namespace Flannel.Testing;

/// <summary>
/// A throwaway network namespace (<c>fnt-&lt;run id&gt;-&lt;name&gt;</c>), deleted on dispose. Plumbing uses
/// <c>ip</c> until the netlink layer lands; code runs inside via setns on a dedicated thread.
/// </summary>
internal sealed partial class ShellTestNamespace : IDisposable
{
    private const int CloneNewNet = 0x40000000;
    private static readonly string RunId = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(3));

    private ShellTestNamespace(string name) => Name = name;

    public string Name { get; }

    public static ShellTestNamespace Create(string name)
    {
        var ns = new ShellTestNamespace($"fnt-{RunId}-{name}");
        Run("ip", $"netns add {ns.Name}");
        ns.Ip("link set lo up");
        return ns;
    }

    public static string Run(string file, string arguments)
    {
        using var process = Process.Start(new ProcessStartInfo(file, arguments)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        })!;
        Task<string> stdout = process.StandardOutput.ReadToEndAsync();
        string stderr = process.StandardError.ReadToEnd();
        process.WaitForExit();
        return process.ExitCode == 0
            ? stdout.Result
            : throw new InvalidOperationException($"{file} {arguments} exited {process.ExitCode}: {stderr}{stdout.Result}");
    }

    public string Ip(string arguments) => Run("ip", $"-n {Name} {arguments}");

    public string Exec(string command) => Run("ip", $"netns exec {Name} {command}");

    /// <summary>Runs <paramref name="action"/> on a fresh thread that has joined this namespace.</summary>
    public T Enter<T>(Func<T> action)
    {
        T result = default!;
        Exception? failure = null;
        var thread = new Thread(() =>
        {
            try
            {
                using var handle = File.OpenHandle($"/var/run/netns/{Name}");
                if (SetNs(handle.DangerousGetHandle().ToInt32(), CloneNewNet) != 0)
                {
                    throw new InvalidOperationException($"setns({Name}) failed: errno {Marshal.GetLastPInvokeError()}");
                }

                result = action();
            }
            catch (Exception ex)
            {
                failure = ex;
            }
        });
        thread.Start();
        thread.Join();
        return failure is null ? result : throw new InvalidOperationException($"in namespace {Name}", failure);
    }

    public void Dispose()
    {
        try
        {
            Run("ip", $"netns del {Name}");
        }
        catch (InvalidOperationException)
        {
            // Already gone; nothing else to clean.
        }
    }

    [DllImport("libc", EntryPoint = "setns", SetLastError = true)]
#pragma warning disable SYSLIB1054 // Test projects do not allow unsafe code, which LibraryImport needs; this signature is blittable.
    private static extern int SetNs(int fd, int type);
#pragma warning restore SYSLIB1054
}
