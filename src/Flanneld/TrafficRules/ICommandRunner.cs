namespace Flanneld.TrafficRules;

/// <summary>
/// Runs one of the firewall binaries (iptables-save, iptables-restore, nft, ...) and collects its output.
/// The daemon runs them directly; tests point the manager into a network namespace of their own.
/// </summary>
public interface ICommandRunner
{
    Task<CommandResult> RunAsync(string program, IReadOnlyList<string> arguments, string? standardInput, CancellationToken cancellationToken);
}

/// <summary>What a finished command returned.</summary>
public readonly record struct CommandResult(int ExitCode, string StandardOutput, string StandardError)
{
    public bool Succeeded => ExitCode == 0;
}
