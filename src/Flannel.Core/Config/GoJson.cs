using System.Text.Json;

namespace Flannel.Core.Config;

/// <summary>
/// Reads configuration JSON the way Go's encoding/json fills a struct, so that files written for upstream flannel
/// mean the same here: keys match field names case-insensitively (with Go's Unicode folding), unknown keys are
/// ignored, a repeated key's last value wins, and a value of the wrong JSON type is an error rather than a default.
/// Errors are <see cref="ConfigException"/>s formatted <c>{context}: {key} {value}: {reason}</c>.
/// </summary>
public static class GoJson
{
    /// <summary>
    /// Parses <paramref name="json"/>, which must be a JSON object (or <c>null</c>, which Go decodes as "no keys").
    /// The caller disposes the document.
    /// </summary>
    public static JsonDocument ParseObject(string json, string context)
    {
        ArgumentNullException.ThrowIfNull(json);
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json);
        }
        catch (JsonException e)
        {
            throw new ConfigException($"{context}: invalid JSON: {e.Message}", e);
        }

        JsonValueKind kind = document.RootElement.ValueKind;
        if (kind is not (JsonValueKind.Object or JsonValueKind.Null))
        {
            document.Dispose();
            throw new ConfigException($"{context}: expected a JSON object, got {KindName(kind)}");
        }

        return document;
    }

    /// <summary>
    /// The members of an object, or none for JSON <c>null</c>; each paired with the known key it matches (null when
    /// it matches none and Go would ignore it).
    /// </summary>
    public static IEnumerable<(string? Key, JsonProperty Property)> Members(JsonElement element, IReadOnlyList<string> knownKeys)
    {
        ArgumentNullException.ThrowIfNull(knownKeys);
        if (element.ValueKind != JsonValueKind.Object)
        {
            yield break;
        }

        foreach (JsonProperty property in element.EnumerateObject())
        {
            yield return (Match(property.Name, knownKeys), property);
        }
    }

    /// <summary>The known key that <paramref name="name"/> names under Go's case folding, or null.</summary>
    public static string? Match(string name, IReadOnlyList<string> knownKeys)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(knownKeys);
        foreach (string key in knownKeys)
        {
            if (FoldEquals(name, key))
            {
                return key;
            }
        }

        return null;
    }

    /// <summary>
    /// Go's encoding/json key folding: ASCII case-insensitive, plus the two non-ASCII letters that fold onto ASCII
    /// (KELVIN SIGN to k, LATIN SMALL LETTER LONG S to s).
    /// </summary>
    public static bool FoldEquals(ReadOnlySpan<char> name, ReadOnlySpan<char> key)
    {
        if (name.Length != key.Length)
        {
            return false;
        }

        for (int i = 0; i < name.Length; i++)
        {
            if (Fold(name[i]) != Fold(key[i]))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>A JSON boolean; null for JSON null (Go leaves the field unchanged).</summary>
    public static bool? ReadBool(JsonElement value, string context, string key) => value.ValueKind switch
    {
        JsonValueKind.True => true,
        JsonValueKind.False => false,
        JsonValueKind.Null => null,
        _ => throw Error(context, key, value, $"must be a JSON boolean (true or false), not {KindName(value.ValueKind)}"),
    };

    /// <summary>An unsigned integer literal (no sign, fraction or exponent), as Go decodes into a uint; null for JSON null.</summary>
    public static ulong? ReadUInt(JsonElement value, string context, string key)
    {
        if (value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        string raw = value.GetRawText();
        if (value.ValueKind != JsonValueKind.Number || !raw.All(char.IsAsciiDigit)
            || !ulong.TryParse(raw, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out ulong result))
        {
            throw Error(context, key, value, "must be an unsigned integer");
        }

        return result;
    }

    /// <summary>A signed integer literal (no fraction or exponent), as Go decodes into an int; null for JSON null.</summary>
    public static long? ReadInt(JsonElement value, string context, string key)
    {
        if (value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        string raw = value.GetRawText();
        ReadOnlySpan<char> digits = raw.StartsWith('-') ? raw.AsSpan(1) : raw;
        if (value.ValueKind != JsonValueKind.Number || digits.IsEmpty || digits.ContainsAnyExcept(Digits)
            || !long.TryParse(raw, System.Globalization.NumberStyles.AllowLeadingSign, System.Globalization.CultureInfo.InvariantCulture, out long result))
        {
            throw Error(context, key, value, "must be an integer");
        }

        return result;
    }

    /// <summary>A JSON string; null for JSON null.</summary>
    public static string? ReadString(JsonElement value, string context, string key) => value.ValueKind switch
    {
        JsonValueKind.String => value.GetString(),
        JsonValueKind.Null => null,
        _ => throw Error(context, key, value, $"must be a JSON string, not {KindName(value.ValueKind)}"),
    };

    /// <summary>The error for a bad value, showing it as it appears in the JSON.</summary>
    public static ConfigException Error(string context, string key, JsonElement value, string reason) =>
        Error(context, key, Shorten(value.GetRawText()), reason);

    /// <summary>The error for a bad value, showing <paramref name="shownValue"/> as given.</summary>
    public static ConfigException Error(string context, string key, string shownValue, string reason) =>
        new(key, $"{context}: {key} {shownValue}: {reason}");

    public static string KindName(JsonValueKind kind) => kind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        JsonValueKind.Null => "null",
        _ => "nothing",
    };

    private static readonly System.Buffers.SearchValues<char> Digits = System.Buffers.SearchValues.Create("0123456789");

    private static char Fold(char c) => c switch
    {
        >= 'A' and <= 'Z' => (char)(c + ('a' - 'A')),
        '\u212A' => 'k',
        '\u017F' => 's',
        _ => c,
    };

    // Error messages must stay readable even when a whole object sits where a string belongs.
    private static string Shorten(string raw) => raw.Length <= 80 ? raw : string.Concat(raw.AsSpan(0, 77), "...");
}
