using System.Text;
using Flannel.Core.Config;

namespace Flanneld.Options;

/// <summary>
/// Parses flanneld's command line and FLANNELD_* environment into <see cref="FlanneldOptions"/>, as upstream does with
/// Go's <c>flag</c> package and coreos/pkg <c>flagutil.SetFlagsFromEnv</c>:
/// <list type="bullet">
/// <item><c>-flag</c> and <c>--flag</c> are the same; <c>-flag=value</c> or <c>-flag value</c>; bool flags take only
/// <c>-flag</c> or <c>-flag=value</c>; <c>--</c> ends the flags; <c>--iface</c> and <c>--iface-regex</c> repeat.</item>
/// <item>Each flag not given on the command line is read from <c>FLANNELD_&lt;NAME&gt;</c> (upper case, '-' and '.' as
/// '_'); empty values are ignored. <c>FLANNELD_IFACE</c> is a comma-separated list.</item>
/// <item><c>--version</c> on the command line skips the environment, as upstream checks it first (so
/// FLANNELD_VERSION never has an effect there either).</item>
/// </list>
/// Errors are <see cref="ConfigException"/>s worded as Go's flag package words them, naming the flag or variable.
/// Unlike Go, which silently stops at the first non-flag argument, a positional argument is an error: flanneld takes
/// none, and every flag after it would otherwise be dropped unnoticed.
/// </summary>
public static class FlagParser
{
    public static FlanneldOptions Parse(IReadOnlyList<string> args, IReadOnlyDictionary<string, string> environment)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(environment);
        var options = new FlanneldOptions();
        var given = new HashSet<string>(StringComparer.Ordinal);
        for (int i = 0; i < args.Count; i++)
        {
            string arg = args[i];
            if (arg == "--")
            {
                if (i + 1 < args.Count)
                {
                    throw Unexpected(args[i + 1]);
                }

                break;
            }

            if (arg.Length < 2 || arg[0] != '-')
            {
                throw Unexpected(arg);
            }

            string name = arg[(arg[1] == '-' ? 2 : 1)..];
            if (name.Length == 0 || name[0] == '-' || name[0] == '=')
            {
                throw new ConfigException(arg, $"bad flag syntax: {arg}");
            }

            string? value = null;
            int equals = name.IndexOf('=', StringComparison.Ordinal);
            if (equals >= 0)
            {
                value = name[(equals + 1)..];
                name = name[..equals];
            }

            FlagDefinition? flag = FlanneldFlags.Find(name);
            if (flag is null)
            {
                if (name is "h" or "help")
                {
                    return options with { Help = true };
                }

                throw new ConfigException(name, $"flag provided but not defined: -{name}");
            }

            if (flag.Kind == FlagKind.Bool)
            {
                value ??= "true";
                options = Apply(name, flag.Set, options, value, reason => $"invalid boolean value {GoFlagValues.Quote(value)} for -{name}: {reason}");
            }
            else
            {
                if (value is null)
                {
                    if (i + 1 >= args.Count)
                    {
                        throw new ConfigException(name, $"flag needs an argument: -{name}");
                    }

                    value = args[++i];
                }

                options = Apply(name, flag.Set, options, value, reason => $"invalid value {GoFlagValues.Quote(value)} for flag -{name}: {reason}");
            }

            given.Add(name);
        }

        if (options.Version)
        {
            return options;
        }

        foreach (FlagDefinition flag in FlanneldFlags.All)
        {
            if (given.Contains(flag.Name) || flag.Name == "version"
                || !environment.TryGetValue(flag.EnvironmentVariable, out string? value) || string.IsNullOrEmpty(value))
            {
                continue;
            }

            options = Apply(flag.EnvironmentVariable, flag.SetFromEnvironment ?? flag.Set, options, value,
                reason => $"invalid value {GoFlagValues.Quote(value)} for {flag.EnvironmentVariable}: {reason}");
        }

        return options;
    }

    /// <summary>Help text for -h/--help, in the layout of Go's flag.PrintDefaults.</summary>
    public static string Usage { get; } = BuildUsage();

    /// <summary>Sets one value; <paramref name="key"/> (the flag's name or its variable) goes into the error.</summary>
    private static FlanneldOptions Apply(
        string key, Func<FlanneldOptions, string, FlanneldOptions> set, FlanneldOptions options, string value, Func<string, string> message)
    {
        try
        {
            return set(options, value);
        }
        catch (FormatException e)
        {
            throw new ConfigException(key, message(e.Message));
        }
    }

    private static ConfigException Unexpected(string arg) =>
        new($"unexpected argument {GoFlagValues.Quote(arg)}: flanneld takes only flags (a flag's value goes after '=' or as the next argument)");

    private static string BuildUsage()
    {
        var text = new StringBuilder("Usage: flanneld [OPTION]...\n");
        foreach (FlagDefinition flag in FlanneldFlags.All)
        {
            int start = text.Length;
            text.Append("  -").Append(flag.Name);
            string typeName = flag.Kind switch
            {
                FlagKind.Bool => "",
                FlagKind.String => "string",
                FlagKind.Int => "int",
                FlagKind.Duration => "duration",
                _ => "value",
            };
            if (typeName.Length > 0)
            {
                text.Append(' ').Append(typeName);
            }

            // Go puts the help of a one-letter bool flag on the same line.
            text.Append(text.Length - start <= 4 ? "\t" : "\n    \t").Append(flag.Usage);
            if (flag.DefaultText is not ("" or "0" or "false" or "[]" or "0s"))
            {
                text.Append(" (default ").Append(flag.Kind == FlagKind.String ? GoFlagValues.Quote(flag.DefaultText) : flag.DefaultText).Append(')');
            }

            text.Append('\n');
        }

        return text.ToString();
    }
}
