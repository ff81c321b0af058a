using System.Diagnostics;
using System.Security.Cryptography;
using Flanneld.TrafficRules;

namespace Flanneld.Tests.TrafficRules;

/// <summary>
/// A network namespace for one test, named <c>fnt-&lt;6 hex&gt;-&lt;n&gt;-&lt;name&gt;</c> and always deleted. The fixture
/// uses <c>ip netns</c> (our netlink layer does not create namespaces yet); product code never runs <c>ip</c>.
/// </summary>
public sealed class TestNetns : IDisposable
{
    public static readonly string RunPrefix = "fnt-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(3));

    private static int s_count;

    public TestNetns(string name)
    {
        Name = $"{RunPrefix}-{Interlocked.Increment(ref s_count)}-{name}";
        Run("ip", "netns", "add", Name);
        Runner = new NetnsCommandRunner(Name);
    }

    public string Name { get; }

    /// <summary>Runs the firewall binaries inside this namespace.</summary>
    public NetnsCommandRunner Runner { get; }

    /// <summary>Runs <paramref name="arguments"/> inside the namespace; throws with stderr when it fails.</summary>
    public string Exec(params string[] arguments) => Run(["ip", "netns", "exec", Name, .. arguments]);

    /// <summary>Runs a command in the root namespace (only <c>ip netns</c> / <c>ip link</c> plumbing into our namespaces).</summary>
    public static string Run(params string[] arguments)
    {
        CommandResult result = RunRaw(arguments);
        return result.Succeeded
            ? result.StandardOutput
            : throw new InvalidOperationException($"'{string.Join(' ', arguments)}' exited with {result.ExitCode}: {result.StandardError}");
    }

    public static CommandResult RunRaw(params string[] arguments)
    {
        var start = new ProcessStartInfo(arguments[0]) { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true };
        foreach (string argument in arguments.Skip(1))
        {
            start.ArgumentList.Add(argument);
        }

        using Process process = Process.Start(start)!;
        process.StandardInput.Close();
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        string stdout = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        return new CommandResult(process.ExitCode, stdout, stderr.Result);
    }

    public void Dispose() => RunRaw("ip", "netns", "del", Name);
}

/// <summary>Points a traffic manager into a test namespace: each binary runs under <c>ip netns exec</c>.</summary>
public sealed class NetnsCommandRunner(string netns) : ICommandRunner
{
    private readonly ProcessCommandRunner _inner = new();

    public int Calls { get; private set; }

    public List<string> Programs { get; } = [];

    public Task<CommandResult> RunAsync(string program, IReadOnlyList<string> arguments, string? standardInput, CancellationToken cancellationToken)
    {
        Calls++;
        Programs.Add(program);
        return _inner.RunAsync("ip", ["netns", "exec", netns, program, .. arguments], standardInput, cancellationToken);
    }
}
