namespace Flanneld.Options;

/// <summary>
/// One flanneld flag: its name (no dashes), how it reads a value into <see cref="FlanneldOptions"/>, and its help.
/// <see cref="Set"/> throws <see cref="FormatException"/> with the reason when the value is bad.
/// </summary>
internal sealed record FlagDefinition(
    string Name,
    FlagKind Kind,
    string DefaultText,
    string Usage,
    Func<FlanneldOptions, string, FlanneldOptions> Set)
{
    /// <summary>How a FLANNELD_* value is applied, when it differs from the command line's (list flags).</summary>
    public Func<FlanneldOptions, string, FlanneldOptions>? SetFromEnvironment { get; init; }

    /// <summary>FLANNELD_ + the name upper-cased with '-' and '.' as '_' (coreos/pkg flagutil.SetFlagsFromEnv).</summary>
    public string EnvironmentVariable => "FLANNELD_" + Name.Replace('-', '_').Replace('.', '_').ToUpperInvariant();
}
