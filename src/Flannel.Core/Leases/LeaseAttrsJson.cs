using System.Buffers;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Flannel.Core.Net;

namespace Flannel.Core.Leases;

/// <summary>
/// The lease value as upstream writes it, byte for byte:
/// <c>{"PublicIP":"192.0.2.2","PublicIPv6":null,"BackendType":"vxlan","BackendData":{...}}</c>.
/// Reading follows Go's encoding/json: keys match case-insensitively, unknown keys are ignored.
/// </summary>
public static class LeaseAttrsJson
{
    /// <summary>Bytes that Utf8JsonWriter would write differently (escaped, or part of an escape).</summary>
    private static readonly SearchValues<byte> Escaped = SearchValues.Create("\\&'+<>`"u8);

    public static byte[] Encode(LeaseAttrs attrs)
    {
        ArgumentNullException.ThrowIfNull(attrs);
        var buffer = new ArrayBufferWriter<byte>(160);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("PublicIP", attrs.PublicIP.ToString());
            if (attrs.PublicIPv6 is null)
            {
                writer.WriteNull("PublicIPv6");
            }
            else
            {
                writer.WriteString("PublicIPv6", attrs.PublicIPv6.ToString());
            }

            // omitempty in upstream's struct tags
            if (!string.IsNullOrEmpty(attrs.BackendType))
            {
                writer.WriteString("BackendType", attrs.BackendType);
            }

            WriteRaw(writer, "BackendData", attrs.BackendData);
            WriteRaw(writer, "BackendV6Data", attrs.BackendV6Data);
            writer.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    public static string EncodeToString(LeaseAttrs attrs) => Encoding.UTF8.GetString(Encode(attrs));

    /// <summary>
    /// Parses a lease value; throws <see cref="FormatException"/> naming the field at fault. Read with
    /// Utf8JsonReader, not through a JsonDocument: a snapshot of 10,000 leases is decoded in one go, and the garbage of
    /// a document, its property-name strings and a re-serialised BackendData per lease grew the heap at start-up.
    /// </summary>
    public static LeaseAttrs Decode(ReadOnlySpan<byte> utf8)
    {
        try
        {
            return Read(utf8);
        }
        catch (JsonException ex)
        {
            throw new FormatException($"lease value is not valid JSON: {ex.Message}", ex);
        }
    }

    private enum Field
    {
        Other,
        PublicIP,
        PublicIPv6,
        BackendType,
        BackendData,
        BackendV6Data,
    }

    private static LeaseAttrs Read(ReadOnlySpan<byte> utf8)
    {
        var reader = new Utf8JsonReader(utf8);
        reader.Read();
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            JsonTokenType kind = reader.TokenType;
            reader.Skip();
            throw new FormatException($"lease value must be a JSON object, not {KindName(kind)}");
        }

        IPAddress? publicIP = null;
        IPAddress? publicIPv6 = null;
        string? backendType = null;
        string? backendData = null;
        string? backendV6Data = null;

        // A bad field is reported once the whole value has been read: malformed JSON anywhere is reported as such first.
        string? error = null;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            Field field = FieldOf(ref reader);
            reader.Read();
            switch (field)
            {
                case Field.PublicIP:
                    publicIP = ReadAddress(ref reader, utf8, "PublicIP", AddressFamily.InterNetwork, ref error);
                    break;
                case Field.PublicIPv6:
                    publicIPv6 = ReadAddress(ref reader, utf8, "PublicIPv6", AddressFamily.InterNetworkV6, ref error);
                    break;
                case Field.BackendType:
                    backendType = reader.TokenType switch
                    {
                        JsonTokenType.String => KnownBackendType(ref reader) ?? reader.GetString(),
                        JsonTokenType.Null => null,
                        _ => Fail(ref error, $"lease field BackendType must be a string, not {KindName(reader.TokenType)}"),
                    };
                    reader.Skip();
                    break;
                case Field.BackendData:
                    backendData = RawCompact(ref reader, utf8);
                    break;
                case Field.BackendV6Data:
                    backendV6Data = RawCompact(ref reader, utf8);
                    break;
                default:
                    reader.Skip();
                    break;
            }
        }

        if (error is not null)
        {
            throw new FormatException(error);
        }

        // Go decodes a missing PublicIP as the zero IP4.
        return new LeaseAttrs(publicIP ?? IPAddress.Any, publicIPv6, backendType, backendData, backendV6Data);
    }

    private static Field FieldOf(ref Utf8JsonReader reader)
    {
        if (reader.ValueIsEscaped)
        {
            string name = reader.GetString()!;
            foreach (Field field in (ReadOnlySpan<Field>)[Field.PublicIP, Field.PublicIPv6, Field.BackendType, Field.BackendData, Field.BackendV6Data])
            {
                if (name.Equals(field.ToString(), StringComparison.OrdinalIgnoreCase))
                {
                    return field;
                }
            }

            return Field.Other;
        }

        ReadOnlySpan<byte> raw = reader.ValueSpan;
        return Ascii.EqualsIgnoreCase(raw, "PublicIP"u8) ? Field.PublicIP
            : Ascii.EqualsIgnoreCase(raw, "PublicIPv6"u8) ? Field.PublicIPv6
            : Ascii.EqualsIgnoreCase(raw, "BackendType"u8) ? Field.BackendType
            : Ascii.EqualsIgnoreCase(raw, "BackendData"u8) ? Field.BackendData
            : Ascii.EqualsIgnoreCase(raw, "BackendV6Data"u8) ? Field.BackendV6Data
            : Field.Other;
    }

    /// <summary>Upstream's backend names as shared strings: 10,000 leases need not hold 10,000 copies of "vxlan".</summary>
    private static string? KnownBackendType(ref Utf8JsonReader reader)
    {
        foreach (string known in (ReadOnlySpan<string>)["vxlan", "host-gw", "udp", "alloc", "wireguard", "ipip", "ipsec", "extension", "tencent-vpc", "ali-vpc", "aws-vpc", "gce"])
        {
            if (reader.ValueTextEquals(known))
            {
                return known;
            }
        }

        return null;
    }

    private static IPAddress? ReadAddress(ref Utf8JsonReader reader, ReadOnlySpan<byte> utf8, string field, AddressFamily family, ref string? error)
    {
        if (reader.TokenType == JsonTokenType.Null)
        {
            return null;
        }

        Span<char> text = stackalloc char[64];
        int length = reader.TokenType == JsonTokenType.String && !reader.HasValueSequence && reader.ValueSpan.Length <= text.Length
            ? reader.CopyString(text)
            : -1;
        if (family == AddressFamily.InterNetwork && length >= 0 && Ip4.TryParse(text[..length], out uint v4))
        {
            return Ip4.ToIPAddress(v4);
        }

        if (family == AddressFamily.InterNetworkV6 && length >= 0 && Ip6.TryParse(text[..length], out UInt128 v6))
        {
            return Ip6.ToIPAddress(v6);
        }

        int start = (int)reader.TokenStartIndex;
        reader.Skip();
        Fail(ref error, $"lease field {field} is not an {(family == AddressFamily.InterNetwork ? "IPv4" : "IPv6")} address: {Encoding.UTF8.GetString(utf8[start..(int)reader.BytesConsumed])}");
        return null;
    }

    /// <summary>
    /// BackendData as compact JSON text. Upstream writes it without whitespace or escapes, so its bytes are used as
    /// they are; anything else is re-serialised (whitespace dropped, escaping made uniform) as before.
    /// </summary>
    private static string? RawCompact(ref Utf8JsonReader reader, ReadOnlySpan<byte> utf8)
    {
        if (reader.TokenType == JsonTokenType.Null)
        {
            return null;
        }

        int start = (int)reader.TokenStartIndex;
        reader.Skip();
        ReadOnlySpan<byte> raw = utf8[start..(int)reader.BytesConsumed];
        if (IsAlreadyCompact(raw))
        {
            return Encoding.ASCII.GetString(raw);
        }

        var nested = new Utf8JsonReader(raw);
        using JsonDocument document = JsonDocument.ParseValue(ref nested);
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            document.RootElement.WriteTo(writer);
        }

        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    /// <summary>
    /// Printable ASCII without whitespace, backslash escapes or the characters Utf8JsonWriter's default encoder
    /// escapes: re-serialising such JSON gives the same bytes back.
    /// </summary>
    private static bool IsAlreadyCompact(ReadOnlySpan<byte> json) =>
        !json.ContainsAnyExceptInRange((byte)0x21, (byte)0x7e) && json.IndexOfAny(Escaped) < 0;

    private static string? Fail(ref string? error, string message)
    {
        error ??= message;
        return null;
    }

    private static string KindName(JsonTokenType token) => token switch
    {
        JsonTokenType.StartObject => "Object",
        JsonTokenType.StartArray => "Array",
        _ => token.ToString(),
    };

    private static void WriteRaw(Utf8JsonWriter writer, string name, string? rawJson)
    {
        if (string.IsNullOrEmpty(rawJson))
        {
            return;
        }

        writer.WritePropertyName(name);
        writer.WriteRawValue(rawJson, skipInputValidation: false);
    }
}
