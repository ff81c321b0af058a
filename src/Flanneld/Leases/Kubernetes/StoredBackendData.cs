using System.Text.Json;

namespace Flanneld.Leases.Kubernetes;

/// <summary>
/// What this node advertised before (its own backend-type / backend-data / backend-v6-data annotations), so that a
/// restarted vxlan backend keeps its VTEP MAC (upstream's GetStoredMacAddresses, fix for flannel #1795).
/// </summary>
public sealed record StoredBackendData(string? BackendType, string? BackendData, string? BackendV6Data)
{
    public static readonly StoredBackendData None = new(null, null, null);

    /// <summary>The VtepMAC inside <see cref="BackendData"/>, if there is a well-formed one.</summary>
    public string? VtepMac => ReadVtepMac(BackendData);

    /// <summary>The VtepMAC inside <see cref="BackendV6Data"/>, if there is a well-formed one.</summary>
    public string? V6VtepMac => ReadVtepMac(BackendV6Data);

    private static string? ReadVtepMac(string? backendData)
    {
        if (string.IsNullOrEmpty(backendData))
        {
            return null;
        }

        try
        {
            using JsonDocument document = JsonDocument.Parse(backendData);
            return document.RootElement.ValueKind == JsonValueKind.Object
                && document.RootElement.TryGetProperty("VtepMAC", out JsonElement mac)
                && mac.ValueKind == JsonValueKind.String
                ? mac.GetString()
                : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
