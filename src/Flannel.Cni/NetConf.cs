using System.Text.Json;
using System.Text.Json.Nodes;

namespace Flannel.Cni;

/// <summary>
/// The flannel plugin's network configuration (stdin), with upstream's keys: <c>name</c>, <c>cniVersion</c>,
/// <c>subnetFile</c>, <c>dataDir</c>, <c>delegate</c>, <c>ipam</c>, <c>runtimeConfig</c>, plus what the runtime
/// adds: <c>prevResult</c> and (GC) <c>cni.dev/valid-attachments</c>.
/// </summary>
internal sealed class NetConf
{
    public const string DefaultSubnetFile = "/run/flannel/subnet.env";
    public const string DefaultDataDir = "/var/lib/cni/flannel";

    private NetConf(JsonObject root, string version, bool hasVersion)
    {
        Root = root;
        Version = version;
        HasVersion = hasVersion;
    }

    public JsonObject Root { get; }

    /// <summary>The requested spec version (<c>cniVersion</c>); <see cref="CniVersion.Implicit"/> when absent.</summary>
    public string Version { get; }

    /// <summary>Whether the configuration names a version (upstream copies it to the delegate only then).</summary>
    public bool HasVersion { get; }

    public string Name => OptionalString("name") ?? "";

    public string SubnetFile => NonEmpty(OptionalString("subnetFile")) ?? DefaultSubnetFile;

    public string DataDir => NonEmpty(OptionalString("dataDir")) ?? DefaultDataDir;

    public JsonObject? Delegate => OptionalObject("delegate");

    public JsonObject? Ipam => OptionalObject("ipam");

    public JsonObject? RuntimeConfig => OptionalObject("runtimeConfig");

    public JsonObject? PrevResult => OptionalObject("prevResult");

    /// <summary>
    /// Reads the configuration's JSON and its <c>cniVersion</c>. Only the version is checked here, as libcni's
    /// skel does before any command; the other fields are checked when a command reads them.
    /// </summary>
    public static NetConf Parse(byte[] stdin)
    {
        JsonNode? node;
        try
        {
            node = JsonTree.Parse(stdin, new JsonDocumentOptions { MaxDepth = 64 });
        }
        catch (JsonException e)
        {
            throw new CniException(CniErrorCode.DecodingFailure, $"failed to decode the network configuration on stdin: {e.Message}");
        }

        if (node is not JsonObject root)
        {
            throw new CniException(CniErrorCode.DecodingFailure, $"the network configuration on stdin must be a JSON object, not {Describe(node)}");
        }

        try
        {
            // Touching every key finds duplicates now rather than later.
            _ = root.Count;
        }
        catch (ArgumentException e)
        {
            throw new CniException(CniErrorCode.DecodingFailure, $"failed to decode the network configuration on stdin: {e.Message}");
        }

        string version = CniVersion.Implicit;
        bool has = false;
        if (root["cniVersion"] is { } v)
        {
            version = JsonTree.StringOf(v)
                ?? throw new CniException(CniErrorCode.DecodingFailure, $"cniVersion must be a string, not {Describe(v)}");
            has = version.Length > 0;
            if (!has)
            {
                version = CniVersion.Implicit;
            }
        }

        return new NetConf(root, version, has);
    }

    public IReadOnlyList<string> ValidAttachmentContainerIds()
    {
        var ids = new List<string>();
        JsonNode? list = Root["cni.dev/valid-attachments"] ?? Root["cni.dev/attachments"];
        if (list is null)
        {
            return ids;
        }

        if (list is not JsonArray array)
        {
            throw new CniException(CniErrorCode.InvalidNetworkConfig, $"cni.dev/valid-attachments must be a list, not {Describe(list)}");
        }

        foreach (JsonNode? item in array)
        {
            ids.Add((item as JsonObject)?["containerID"] is JsonValue id && JsonTree.StringOf(id) is { } text
                ? text
                : throw new CniException(CniErrorCode.InvalidNetworkConfig, $"cni.dev/valid-attachments entries need a string containerID, not {Describe(item)}"));
        }

        return ids;
    }

    internal static string Describe(JsonNode? node) => IpamRoute.Describe(node);

    private static string? NonEmpty(string? value) => string.IsNullOrEmpty(value) ? null : value;

    private string? OptionalString(string key) => Root[key] switch
    {
        null => null,
        JsonValue value when JsonTree.StringOf(value) is { } text => text,
        JsonNode other => throw new CniException(CniErrorCode.DecodingFailure, $"{key} must be a string, not {Describe(other)}"),
    };

    private JsonObject? OptionalObject(string key) => Root[key] switch
    {
        null => null,
        JsonObject obj => obj,
        JsonNode other => throw new CniException(CniErrorCode.DecodingFailure, $"{key} must be an object, not {Describe(other)}"),
    };
}
