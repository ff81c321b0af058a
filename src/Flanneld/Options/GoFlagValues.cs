using System.Globalization;
using System.Text;

namespace Flanneld.Options;

/// <summary>
/// Flag value syntax as Go's <c>flag</c> and <c>strconv</c>/<c>time</c> packages read it, so that command lines and
/// FLANNELD_* values written for upstream flanneld mean the same here. Failures throw <see cref="FormatException"/>
/// with the reason Go's flag package would give.
/// </summary>
internal static class GoFlagValues
{
    public const string ParseError = "parse error";

    public const string RangeError = "value out of range";

    /// <summary>strconv.ParseBool: 1, t, T, TRUE, true, True and their false counterparts.</summary>
    public static bool ParseBool(string text) => text switch
    {
        "1" or "t" or "T" or "TRUE" or "true" or "True" => true,
        "0" or "f" or "F" or "FALSE" or "false" or "False" => false,
        _ => throw new FormatException(ParseError),
    };

    /// <summary>
    /// strconv.ParseInt(text, 0, 64), as flag.IntVar uses: optional sign, then decimal, 0x hex, 0o or leading-0
    /// octal, or 0b binary, with underscores allowed between digits when a base prefix is given.
    /// </summary>
    public static long ParseInt(string text)
    {
        ReadOnlySpan<char> s = text;
        bool negative = false;
        if (s.Length > 0 && (s[0] == '+' || s[0] == '-'))
        {
            negative = s[0] == '-';
            s = s[1..];
        }

        int numberBase = 10;
        bool prefixed = false;
        if (s.Length > 1 && s[0] == '0')
        {
            prefixed = true;
            (numberBase, int prefixLength) = char.ToLowerInvariant(s[1]) switch
            {
                'x' => (16, 2),
                'o' => (8, 2),
                'b' => (2, 2),
                _ => (8, 1),
            };
            s = s[prefixLength..];
        }

        if (s.IsEmpty || !UnderscoresOk(s, prefixed))
        {
            throw new FormatException(ParseError);
        }

        ulong magnitude = 0;
        foreach (char c in s)
        {
            if (c == '_')
            {
                continue;
            }

            int digit = c switch
            {
                >= '0' and <= '9' => c - '0',
                >= 'a' and <= 'z' => c - 'a' + 10,
                >= 'A' and <= 'Z' => c - 'A' + 10,
                _ => int.MaxValue,
            };
            if (digit >= numberBase)
            {
                throw new FormatException(ParseError);
            }

            if (magnitude > (ulong.MaxValue - (ulong)digit) / (ulong)numberBase)
            {
                throw new FormatException(RangeError);
            }

            magnitude = (magnitude * (ulong)numberBase) + (ulong)digit;
        }

        ulong limit = negative ? (ulong)long.MaxValue + 1 : long.MaxValue;
        if (magnitude > limit)
        {
            throw new FormatException(RangeError);
        }

        return negative ? (long)(0 - magnitude) : (long)magnitude;
    }

    /// <summary>
    /// time.ParseDuration: a sequence of decimal numbers, each with optional fraction and a unit (ns, us, µs, ms, s,
    /// m, h), with an optional sign; "0" alone needs no unit. Precision below 100 ns (a tick) is dropped.
    /// </summary>
    public static TimeSpan ParseDuration(string text)
    {
        ReadOnlySpan<char> s = text;
        bool negative = false;
        if (s.Length > 0 && (s[0] == '+' || s[0] == '-'))
        {
            negative = s[0] == '-';
            s = s[1..];
        }

        if (s is "0")
        {
            return TimeSpan.Zero;
        }

        if (s.IsEmpty)
        {
            throw new FormatException(ParseError);
        }

        decimal nanoseconds = 0;
        while (!s.IsEmpty)
        {
            int whole = CountDigits(s);
            ReadOnlySpan<char> integer = s[..whole];
            s = s[whole..];
            ReadOnlySpan<char> fraction = [];
            if (!s.IsEmpty && s[0] == '.')
            {
                s = s[1..];
                int fractional = CountDigits(s);
                fraction = s[..fractional];
                s = s[fractional..];
            }

            if (integer.IsEmpty && fraction.IsEmpty)
            {
                throw new FormatException(ParseError);
            }

            int unitLength = 0;
            while (unitLength < s.Length && s[unitLength] != '.' && !char.IsAsciiDigit(s[unitLength]))
            {
                unitLength++;
            }

            decimal unit = s[..unitLength] switch
            {
                "ns" => 1m,
                "us" or "\u00b5s" or "\u03bcs" => 1_000m,
                "ms" => 1_000_000m,
                "s" => 1_000_000_000m,
                "m" => 60_000_000_000m,
                "h" => 3_600_000_000_000m,
                _ => throw new FormatException(unitLength == 0 ? "missing unit" : ParseError),
            };
            s = s[unitLength..];

            // Go holds durations as int64 nanoseconds; anything longer (about 292 years) is an error there too.
            if (integer.Length > 20 || !decimal.TryParse(string.Concat(integer.IsEmpty ? "0" : integer, ".", fraction.IsEmpty ? "0" : fraction[..Math.Min(fraction.Length, 20)]),
                    NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out decimal number))
            {
                throw new FormatException(RangeError);
            }

            nanoseconds += number * unit;
            if (nanoseconds > long.MaxValue)
            {
                throw new FormatException(RangeError);
            }
        }

        long ticks = (long)(nanoseconds / 100);
        return TimeSpan.FromTicks(negative ? -ticks : ticks);
    }

    /// <summary>The string as Go's %q shows it.</summary>
    public static string Quote(string text)
    {
        var quoted = new StringBuilder(text.Length + 2).Append('"');
        foreach (char c in text)
        {
            _ = c switch
            {
                '"' => quoted.Append("\\\""),
                '\\' => quoted.Append("\\\\"),
                '\n' => quoted.Append("\\n"),
                '\t' => quoted.Append("\\t"),
                '\r' => quoted.Append("\\r"),
                < ' ' or '\u007f' => quoted.Append(CultureInfo.InvariantCulture, $"\\x{(int)c:x2}"),
                _ => quoted.Append(c),
            };
        }

        return quoted.Append('"').ToString();
    }

    private static int CountDigits(ReadOnlySpan<char> s)
    {
        int count = 0;
        while (count < s.Length && char.IsAsciiDigit(s[count]))
        {
            count++;
        }

        return count;
    }

    // strconv's underscoreOK: underscores only with a base prefix, each between digits (or after the prefix).
    private static bool UnderscoresOk(ReadOnlySpan<char> digits, bool prefixed)
    {
        if (!digits.Contains('_'))
        {
            return true;
        }

        if (!prefixed)
        {
            return false;
        }

        bool previousIsDigit = true;
        foreach (char c in digits)
        {
            if (c == '_')
            {
                if (!previousIsDigit)
                {
                    return false;
                }

                previousIsDigit = false;
            }
            else
            {
                previousIsDigit = true;
            }
        }

        return previousIsDigit;
    }
}
