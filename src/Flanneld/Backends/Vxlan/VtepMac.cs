using System.Buffers;
using System.Net.NetworkInformation;
using System.Text;
using System.Text.Json;
using Flannel.Linux.Netlink;

namespace Flanneld.Backends.Vxlan;

/// <summary>VTEP MAC addresses and the vxlan lease BackendData, <c>{"VNI":1,"VtepMAC":"aa:bb:cc:dd:ee:ff"}</c>.</summary>
public static class VtepMac
{
    public static bool IsUsable(PhysicalAddress mac)
    {
        ArgumentNullException.ThrowIfNull(mac);
        byte[] bytes = mac.GetAddressBytes();
        return bytes.Length == 6 && (bytes[0] & 0x01) == 0 && bytes.Any(b => b != 0);
    }

    public static string FormatBackendData(uint vni, PhysicalAddress mac) =>
        string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{{\"VNI\":{vni},\"VtepMAC\":\"{Mac.Format(mac)}\"}}");

    /// <summary>
    /// Reads VtepMAC (the key matched case-insensitively, as Go's encoding/json does) from vxlan BackendData; null with
    /// a reason when the JSON is malformed or VtepMAC is missing or not a unicast MAC. Read with Utf8JsonReader over a
    /// stack buffer: a sync of 10,000 peers allocates nothing here but each peer's MAC.
    /// </summary>
    public static PhysicalAddress? ParseBackendData(string? backendData, out string? reason)
    {
        if (string.IsNullOrEmpty(backendData))
        {
            reason = "no BackendData";
            return null;
        }

        const int StackLimit = 512;
        int maxBytes = Encoding.UTF8.GetMaxByteCount(backendData.Length);
        byte[]? rented = maxBytes > StackLimit ? ArrayPool<byte>.Shared.Rent(maxBytes) : null;
        try
        {
            Span<byte> utf8 = rented is null ? stackalloc byte[StackLimit] : rented;
            int length = Encoding.UTF8.GetBytes(backendData, utf8);
            return Read(utf8[..length], out reason);
        }
        catch (JsonException ex)
        {
            reason = "bad BackendData: " + ex.Message;
            return null;
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }

    private static PhysicalAddress? Read(ReadOnlySpan<byte> json, out string? reason)
    {
        var reader = new Utf8JsonReader(json);
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
        {
            reason = "bad BackendData: not a JSON object";
            return null;
        }

        Span<byte> mac = stackalloc byte[6];
        string? problem = "BackendData has no VtepMAC";
        bool found = false;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            bool isVtepMac = !found && IsVtepMacName(ref reader);
            reader.Read();
            if (isVtepMac)
            {
                found = true;
                problem = ReadMac(ref reader, mac);
            }
            else
            {
                reader.Skip();
            }
        }

        // Reading past the object's end makes the reader reject anything that follows it.
        reader.Read();
        if (problem is not null)
        {
            reason = problem;
            return null;
        }

        if ((mac[0] & 0x01) != 0 || !mac.ContainsAnyExcept((byte)0))
        {
            reason = $"VtepMAC {Mac.Format(new PhysicalAddress(mac.ToArray()))} is not a unicast MAC";
            return null;
        }

        reason = null;
        return new PhysicalAddress(mac.ToArray());
    }

    private static bool IsVtepMacName(ref Utf8JsonReader reader) =>
        reader.ValueIsEscaped
            ? string.Equals(reader.GetString(), "VtepMAC", StringComparison.OrdinalIgnoreCase)
            : Ascii.EqualsIgnoreCase(reader.ValueSpan, "VtepMAC"u8);

    /// <summary>Parses the string value at the reader into <paramref name="mac"/>; the problem, or null.</summary>
    private static string? ReadMac(ref Utf8JsonReader reader, scoped Span<byte> mac)
    {
        if (reader.TokenType != JsonTokenType.String)
        {
            return $"bad BackendData: VtepMAC is a {reader.TokenType}, not a string";
        }

        Span<char> text = stackalloc char[32];
        int length = reader.HasValueSequence || reader.ValueSpan.Length > text.Length ? -1 : reader.CopyString(text);
        return length >= 0 && Mac.TryParse(text[..length], mac)
            ? null
            : $"bad BackendData: '{reader.GetString()}' is not a MAC address (aa:bb:cc:dd:ee:ff).";
    }
}
