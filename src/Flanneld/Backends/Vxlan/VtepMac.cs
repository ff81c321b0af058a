using System.Net.NetworkInformation;
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

    /// <summary>Reads VtepMAC from vxlan BackendData; null with a reason when it is missing or not a unicast MAC.</summary>
    public static PhysicalAddress? ParseBackendData(string? backendData, out string? reason)
    {
        reason = null;
        if (string.IsNullOrEmpty(backendData))
        {
            reason = "no BackendData";
            return null;
        }

        try
        {
            using var document = JsonDocument.Parse(backendData);
            foreach (JsonProperty property in document.RootElement.EnumerateObject())
            {
                if (property.Name.Equals("VtepMAC", StringComparison.OrdinalIgnoreCase))
                {
                    PhysicalAddress mac = Mac.Parse(property.Value.GetString() ?? "");
                    if (!IsUsable(mac))
                    {
                        reason = $"VtepMAC {Mac.Format(mac)} is not a unicast MAC";
                        return null;
                    }

                    return mac;
                }
            }

            reason = "BackendData has no VtepMAC";
        }
        catch (Exception ex) when (ex is JsonException or FormatException or InvalidOperationException)
        {
            reason = "bad BackendData: " + ex.Message;
        }

        return null;
    }
}
