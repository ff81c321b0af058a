namespace Flanneld.Options;

/// <summary>Parses flanneld's command line and FLANNELD_* environment into <see cref="FlanneldOptions"/>.</summary>
public static class FlagParser
{
    public static FlanneldOptions Parse(IReadOnlyList<string> args, IReadOnlyDictionary<string, string> environment)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(environment);
        throw new NotImplementedException("FlagParser is being written (config helper).");
    }
}
