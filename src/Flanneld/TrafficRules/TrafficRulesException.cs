namespace Flanneld.TrafficRules;

/// <summary>A firewall binary refused our rules or could not be run.</summary>
public sealed class TrafficRulesException : Exception
{
    public TrafficRulesException()
    {
    }

    public TrafficRulesException(string message)
        : base(message)
    {
    }

    public TrafficRulesException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    internal static TrafficRulesException Failed(string program, IReadOnlyList<string> arguments, CommandResult result) =>
        new($"'{program} {string.Join(' ', arguments)}' exited with {result.ExitCode}: {result.StandardError.Trim()}");
}
