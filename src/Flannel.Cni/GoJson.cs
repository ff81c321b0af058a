using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Flannel.Cni;

/// <summary>
/// Writes JSON the way Go's <c>encoding/json</c> marshals <c>map[string]interface{}</c>: object keys sorted
/// byte-wise, numbers as float64, <c>&lt;</c> <c>&gt;</c> <c>&amp;</c> escaped. Upstream's plugin saves the
/// delegate configuration in that form, so our state files and delegate stdin are byte-identical to upstream's.
/// </summary>
/// <remarks>
/// Values: null, string, bool, int, double, <see cref="JsonNode"/>, <see cref="IpamRoute"/>,
/// <see cref="IReadOnlyDictionary{TKey,TValue}"/> of string to value (a Go map) and <see cref="IEnumerable{T}"/>
/// of values (a Go slice).
/// </remarks>
internal static class GoJson
{
    public static byte[] Serialize(object? value)
    {
        var text = new StringBuilder(512);
        Write(text, value);
        return Encoding.UTF8.GetBytes(text.ToString());
    }

    public static void Write(StringBuilder text, object? value)
    {
        ArgumentNullException.ThrowIfNull(text);
        switch (value)
        {
            case null:
                text.Append("null");
                break;
            case string s:
                WriteString(text, s);
                break;
            case bool b:
                text.Append(b ? "true" : "false");
                break;
            case int i:
                text.Append(i.ToString(CultureInfo.InvariantCulture));
                break;
            case double d:
                text.Append(FormatNumber(d));
                break;
            case IpamRoute route:
                route.WriteTo(text);
                break;
            case JsonNode node:
                WriteNode(text, node);
                break;
            case IReadOnlyDictionary<string, object?> map:
                WriteMap(text, map);
                break;
            case System.Collections.IEnumerable list:
                WriteList(text, list);
                break;
            default:
                throw new ArgumentException($"cannot marshal a {value.GetType().Name}", nameof(value));
        }
    }

    public static void WriteString(StringBuilder text, string value)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(value);
        text.Append('"');
        foreach (char c in value)
        {
            switch (c)
            {
                case '"': text.Append("\\\""); break;
                case '\\': text.Append("\\\\"); break;
                case '\n': text.Append("\\n"); break;
                case '\r': text.Append("\\r"); break;
                case '\t': text.Append("\\t"); break;
                case '\b': text.Append("\\b"); break;
                case '\f': text.Append("\\f"); break;
                case '<' or '>' or '&' or '\u2028' or '\u2029' or < ' ':
                    text.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                    break;
                default: text.Append(c); break;
            }
        }

        text.Append('"');
    }

    /// <summary>Go's float64 formatting: shortest round-trip digits, exponent form outside [1e-6, 1e21).</summary>
    public static string FormatNumber(double value)
    {
        double magnitude = Math.Abs(value);
        string shortest = value.ToString("R", CultureInfo.InvariantCulture);
        int e = shortest.IndexOf('E', StringComparison.Ordinal);
        if (magnitude == 0 || (magnitude >= 1e-6 && magnitude < 1e21))
        {
            return e < 0 ? shortest : ExpandExponent(shortest, e);
        }

        // Go writes 1e+21 and 1e-07 as "1e+21" and "1e-07" cleaned to "1e-7": at least one exponent digit.
        string mantissa = shortest[..e];
        char sign = shortest[e + 1];
        string digits = shortest[(e + 2)..].TrimStart('0');
        return $"{mantissa}e{sign}{(digits.Length == 0 ? "0" : digits)}";
    }

    private static string ExpandExponent(string shortest, int e)
    {
        bool negative = shortest[0] == '-';
        string mantissa = shortest[(negative ? 1 : 0)..e];
        int exponent = int.Parse(shortest.AsSpan(e + 1), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
        int point = mantissa.IndexOf('.', StringComparison.Ordinal);
        string digits = point < 0 ? mantissa : mantissa.Remove(point, 1);
        int integerDigits = (point < 0 ? mantissa.Length : point) + exponent;
        string plain = integerDigits <= 0
            ? "0." + new string('0', -integerDigits) + digits
            : integerDigits >= digits.Length
                ? digits + new string('0', integerDigits - digits.Length)
                : digits[..integerDigits] + "." + digits[integerDigits..];
        return negative ? "-" + plain : plain;
    }

    private static void WriteList(StringBuilder text, System.Collections.IEnumerable list)
    {
        text.Append('[');
        bool first = true;
        foreach (object? item in list)
        {
            if (!first)
            {
                text.Append(',');
            }

            first = false;
            Write(text, item);
        }

        text.Append(']');
    }

    private static void WriteMap(StringBuilder text, IReadOnlyDictionary<string, object?> map)
    {
        string[] keys = [.. map.Keys];
        Array.Sort(keys, CompareKeys);
        text.Append('{');
        for (int i = 0; i < keys.Length; i++)
        {
            if (i > 0)
            {
                text.Append(',');
            }

            WriteString(text, keys[i]);
            text.Append(':');
            Write(text, map[keys[i]]);
        }

        text.Append('}');
    }

    private static void WriteNode(StringBuilder text, JsonNode node)
    {
        switch (node)
        {
            case JsonObject obj:
                var map = new Dictionary<string, object?>(StringComparer.Ordinal);
                foreach (KeyValuePair<string, JsonNode?> property in obj)
                {
                    map[property.Key] = property.Value;
                }

                WriteMap(text, map);
                break;
            case JsonArray array:
                WriteList(text, array);
                break;
            default:
                WriteScalar(text, node.AsValue());
                break;
        }
    }

    private static void WriteScalar(StringBuilder text, JsonValue value)
    {
        switch (value.GetValueKind())
        {
            case JsonValueKind.String:
                WriteString(text, value.ToString());
                break;
            case JsonValueKind.True:
                text.Append("true");
                break;
            case JsonValueKind.False:
                text.Append("false");
                break;
            case JsonValueKind.Number:
                text.Append(value.TryGetValue(out double d) ? FormatNumber(d)
                    : value.TryGetValue(out JsonElement element) ? FormatNumber(element.GetDouble())
                    : value.ToJsonString());
                break;
            default:
                text.Append("null");
                break;
        }
    }

    /// <summary>Go sorts map keys by their UTF-8 bytes; ordinal UTF-16 order agrees outside surrogates.</summary>
    private static int CompareKeys(string left, string right) => string.CompareOrdinal(left, right);
}
