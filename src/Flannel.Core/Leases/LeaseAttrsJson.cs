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

    /// <summary>Parses a lease value; throws <see cref="FormatException"/> naming the field at fault.</summary>
    public static LeaseAttrs Decode(ReadOnlySpan<byte> utf8)
    {
        JsonDocument document;
        try
        {
            var reader = new Utf8JsonReader(utf8);
            document = JsonDocument.ParseValue(ref reader);
        }
        catch (JsonException ex)
        {
            throw new FormatException($"lease value is not valid JSON: {ex.Message}", ex);
        }

        using (document)
        {
            JsonElement root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw new FormatException($"lease value must be a JSON object, not {root.ValueKind}");
            }

            IPAddress? publicIP = null;
            IPAddress? publicIPv6 = null;
            string? backendType = null;
            string? backendData = null;
            string? backendV6Data = null;
            foreach (JsonProperty property in root.EnumerateObject())
            {
                if (property.Name.Equals("PublicIP", StringComparison.OrdinalIgnoreCase))
                {
                    publicIP = ReadAddress(property, AddressFamily.InterNetwork);
                }
                else if (property.Name.Equals("PublicIPv6", StringComparison.OrdinalIgnoreCase))
                {
                    publicIPv6 = ReadAddress(property, AddressFamily.InterNetworkV6);
                }
                else if (property.Name.Equals("BackendType", StringComparison.OrdinalIgnoreCase))
                {
                    backendType = property.Value.ValueKind switch
                    {
                        JsonValueKind.String => KnownBackendType(property.Value) ?? property.Value.GetString(),
                        JsonValueKind.Null => null,
                        _ => throw new FormatException($"lease field BackendType must be a string, not {property.Value.ValueKind}"),
                    };
                }
                else if (property.Name.Equals("BackendData", StringComparison.OrdinalIgnoreCase))
                {
                    backendData = Compact(property.Value);
                }
                else if (property.Name.Equals("BackendV6Data", StringComparison.OrdinalIgnoreCase))
                {
                    backendV6Data = Compact(property.Value);
                }
            }

            // Go decodes a missing PublicIP as the zero IP4.
            return new LeaseAttrs(publicIP ?? IPAddress.Any, publicIPv6, backendType, backendData, backendV6Data);
        }
    }

    /// <summary>Upstream's backend names as shared strings: 10,000 leases need not hold 10,000 copies of "vxlan".</summary>
    private static string? KnownBackendType(JsonElement value)
    {
        foreach (string known in (ReadOnlySpan<string>)["vxlan", "host-gw", "udp", "alloc", "wireguard", "ipip", "ipsec", "extension", "tencent-vpc", "ali-vpc", "aws-vpc", "gce"])
        {
            if (value.ValueEquals(known))
            {
                return known;
            }
        }

        return null;
    }

    private static IPAddress? ReadAddress(JsonProperty property, AddressFamily family)
    {
        if (property.Value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        string? text = property.Value.ValueKind == JsonValueKind.String ? property.Value.GetString() : null;
        if (family == AddressFamily.InterNetwork && text is not null && Ip4.TryParse(text, out uint v4))
        {
            return Ip4.ToIPAddress(v4);
        }

        if (family == AddressFamily.InterNetworkV6 && text is not null && Ip6.TryParse(text, out UInt128 v6))
        {
            return Ip6.ToIPAddress(v6);
        }

        throw new FormatException($"lease field {property.Name} is not an {(family == AddressFamily.InterNetwork ? "IPv4" : "IPv6")} address: {property.Value.GetRawText()}");
    }

    private static string? Compact(JsonElement value)
    {
        if (value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            value.WriteTo(writer);
        }

        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

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
