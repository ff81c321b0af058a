using System.Text;
using System.Text.Json;

namespace Flanneld.Leases.Kubernetes;

/// <summary>
/// Streaming reads of the API server's JSON that keep only the fields flannel uses. A full Node is 5–20 KB (status
/// with images, conditions, managedFields); building whole objects for every event of every node is the cost that
/// dominates a large cluster's watch, so this reader walks the bytes once and skips everything else.
/// </summary>
internal static class NodeJson
{
    /// <summary>Parses one watch event line.</summary>
    public static NodeWatchEvent ReadWatchEvent(ReadOnlySpan<byte> utf8, string annotationPrefix)
    {
        var reader = new Utf8JsonReader(utf8);
        Expect(ref reader, JsonTokenType.StartObject);
        WatchEventType type = WatchEventType.Unknown;
        ObjectFields? fields = null;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("type"u8))
            {
                reader.Read();
                type = ParseType(ref reader);
            }
            else if (reader.ValueTextEquals("object"u8))
            {
                reader.Read();
                fields = ReadObject(ref reader, annotationPrefix);
            }
            else
            {
                reader.Read();
                reader.Skip();
            }
        }

        if (fields is null)
        {
            throw new JsonException("watch event has no object");
        }

        return type switch
        {
            WatchEventType.Error => new NodeWatchEvent(type, null, fields.ToStatus(), null),
            WatchEventType.Bookmark => new NodeWatchEvent(type, null, null, fields.ResourceVersion),
            _ => new NodeWatchEvent(type, fields.ToNode(), null, fields.ResourceVersion),
        };
    }

    /// <summary>Parses a NodeList (one page of a list).</summary>
    public static NodeListPage ReadNodeList(ReadOnlySpan<byte> utf8, string annotationPrefix)
    {
        var reader = new Utf8JsonReader(utf8);
        Expect(ref reader, JsonTokenType.StartObject);
        var items = new List<NodeInfo>();
        string resourceVersion = "";
        string? continueToken = null;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("metadata"u8))
            {
                reader.Read();
                Expect(ref reader, JsonTokenType.StartObject, read: false);
                while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                {
                    if (reader.ValueTextEquals("resourceVersion"u8))
                    {
                        reader.Read();
                        resourceVersion = reader.GetString() ?? "";
                    }
                    else if (reader.ValueTextEquals("continue"u8))
                    {
                        reader.Read();
                        continueToken = reader.GetString();
                    }
                    else
                    {
                        reader.Read();
                        reader.Skip();
                    }
                }
            }
            else if (reader.ValueTextEquals("items"u8))
            {
                reader.Read();
                if (reader.TokenType == JsonTokenType.Null)
                {
                    continue;
                }

                Expect(ref reader, JsonTokenType.StartArray, read: false);
                while (reader.Read() && reader.TokenType == JsonTokenType.StartObject)
                {
                    items.Add(ReadObject(ref reader, annotationPrefix).ToNode());
                }
            }
            else
            {
                reader.Read();
                reader.Skip();
            }
        }

        return new NodeListPage(items, resourceVersion, string.IsNullOrEmpty(continueToken) ? null : continueToken);
    }

    /// <summary>Parses one Node object (a GET).</summary>
    public static NodeInfo ReadNode(ReadOnlySpan<byte> utf8, string annotationPrefix)
    {
        var reader = new Utf8JsonReader(utf8);
        reader.Read();
        return ReadObject(ref reader, annotationPrefix).ToNode();
    }

    /// <summary>Parses a Status body; null when the body is not one.</summary>
    public static KubeStatus? TryReadStatus(ReadOnlySpan<byte> utf8)
    {
        try
        {
            var reader = new Utf8JsonReader(utf8);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return null;
            }

            ObjectFields fields = ReadObject(ref reader, "\0");
            return fields.Kind == "Status" ? fields.ToStatus() : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>Reads <c>spec.nodeName</c> of a Pod.</summary>
    public static string? ReadPodNodeName(ReadOnlySpan<byte> utf8)
    {
        var reader = new Utf8JsonReader(utf8);
        Expect(ref reader, JsonTokenType.StartObject);
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            bool spec = reader.ValueTextEquals("spec"u8);
            reader.Read();
            if (!spec || reader.TokenType != JsonTokenType.StartObject)
            {
                reader.Skip();
                continue;
            }

            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                bool nodeName = reader.ValueTextEquals("nodeName"u8);
                reader.Read();
                if (nodeName)
                {
                    return reader.TokenType == JsonTokenType.String ? reader.GetString() : null;
                }

                reader.Skip();
            }
        }

        return null;
    }

    private static WatchEventType ParseType(ref Utf8JsonReader reader) =>
        reader.ValueTextEquals("ADDED"u8) ? WatchEventType.Added
        : reader.ValueTextEquals("MODIFIED"u8) ? WatchEventType.Modified
        : reader.ValueTextEquals("DELETED"u8) ? WatchEventType.Deleted
        : reader.ValueTextEquals("BOOKMARK"u8) ? WatchEventType.Bookmark
        : reader.ValueTextEquals("ERROR"u8) ? WatchEventType.Error
        : WatchEventType.Unknown;

    /// <summary>Reads an object whose StartObject is the current token; leaves the reader on its EndObject.</summary>
    private static ObjectFields ReadObject(ref Utf8JsonReader reader, string annotationPrefix)
    {
        Expect(ref reader, JsonTokenType.StartObject, read: false);
        var fields = new ObjectFields();
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("metadata"u8))
            {
                reader.Read();
                ReadMetadata(ref reader, fields, annotationPrefix);
            }
            else if (reader.ValueTextEquals("spec"u8))
            {
                reader.Read();
                ReadSpec(ref reader, fields);
            }
            else if (reader.ValueTextEquals("kind"u8))
            {
                reader.Read();
                fields.Kind = reader.TokenType == JsonTokenType.String ? reader.GetString() : null;
            }
            else if (reader.ValueTextEquals("code"u8))
            {
                reader.Read();
                fields.Code = reader.TokenType == JsonTokenType.Number && reader.TryGetInt32(out int code) ? code : 0;
            }
            else if (reader.ValueTextEquals("reason"u8))
            {
                reader.Read();
                fields.Reason = reader.TokenType == JsonTokenType.String ? reader.GetString() : null;
            }
            else if (reader.ValueTextEquals("message"u8))
            {
                reader.Read();
                fields.Message = reader.TokenType == JsonTokenType.String ? reader.GetString() : null;
            }
            else
            {
                reader.Read();
                reader.Skip();
            }
        }

        return fields;
    }

    private static void ReadMetadata(ref Utf8JsonReader reader, ObjectFields fields, string annotationPrefix)
    {
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            reader.Skip();
            return;
        }

        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("name"u8))
            {
                reader.Read();
                fields.Name = reader.GetString();
            }
            else if (reader.ValueTextEquals("resourceVersion"u8))
            {
                reader.Read();
                fields.ResourceVersion = reader.GetString();
            }
            else if (reader.ValueTextEquals("uid"u8))
            {
                reader.Read();
                fields.Uid = reader.GetString();
            }
            else if (reader.ValueTextEquals("annotations"u8))
            {
                reader.Read();
                ReadAnnotations(ref reader, fields, annotationPrefix);
            }
            else
            {
                reader.Read();
                reader.Skip();
            }
        }
    }

    private static void ReadAnnotations(ref Utf8JsonReader reader, ObjectFields fields, string annotationPrefix)
    {
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            reader.Skip();
            return;
        }

        // Only our prefix is kept: other controllers' annotations (often large) are skipped without a string.
        Span<byte> prefix = stackalloc byte[Encoding.UTF8.GetMaxByteCount(annotationPrefix.Length)];
        prefix = prefix[..Encoding.UTF8.GetBytes(annotationPrefix, prefix)];
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            bool ours = reader.ValueIsEscaped
                ? reader.GetString()!.StartsWith(annotationPrefix, StringComparison.Ordinal)
                : reader.ValueSpan.StartsWith(prefix);
            if (!ours)
            {
                reader.Read();
                reader.Skip();
                continue;
            }

            string key = reader.GetString()!;
            reader.Read();
            if (reader.TokenType == JsonTokenType.String)
            {
                fields.Annotations ??= new Dictionary<string, string>(StringComparer.Ordinal);
                fields.Annotations[key] = reader.GetString()!;
            }
            else
            {
                reader.Skip();
            }
        }
    }

    private static void ReadSpec(ref Utf8JsonReader reader, ObjectFields fields)
    {
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            reader.Skip();
            return;
        }

        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("podCIDR"u8))
            {
                reader.Read();
                fields.PodCidr = reader.TokenType == JsonTokenType.String ? reader.GetString() : null;
            }
            else if (reader.ValueTextEquals("podCIDRs"u8))
            {
                reader.Read();
                if (reader.TokenType != JsonTokenType.StartArray)
                {
                    reader.Skip();
                    continue;
                }

                var cidrs = new List<string>(2);
                while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
                {
                    if (reader.TokenType == JsonTokenType.String)
                    {
                        cidrs.Add(reader.GetString()!);
                    }
                    else
                    {
                        reader.Skip();
                    }
                }

                fields.PodCidrs = cidrs;
            }
            else
            {
                reader.Read();
                reader.Skip();
            }
        }
    }

    private static void Expect(ref Utf8JsonReader reader, JsonTokenType type, bool read = true)
    {
        if ((read && !reader.Read()) || reader.TokenType != type)
        {
            throw new JsonException($"expected {type} at byte {reader.TokenStartIndex}, found {reader.TokenType}");
        }
    }

    private sealed class ObjectFields
    {
        private static readonly Dictionary<string, string> NoAnnotations = new(StringComparer.Ordinal);

        public string? Kind { get; set; }

        public string? Name { get; set; }

        public string? ResourceVersion { get; set; }

        public string? Uid { get; set; }

        public Dictionary<string, string>? Annotations { get; set; }

        public string? PodCidr { get; set; }

        public List<string>? PodCidrs { get; set; }

        public int Code { get; set; }

        public string? Reason { get; set; }

        public string? Message { get; set; }

        public NodeInfo ToNode() =>
            new(
                Name ?? throw new JsonException("node without metadata.name"),
                ResourceVersion ?? "",
                PodCidr ?? "",
                PodCidrs ?? [],
                Annotations ?? NoAnnotations,
                Uid ?? "",
                HasSpec: Kind != "PartialObjectMetadata");

        public KubeStatus ToStatus() => new(Code, Reason ?? "", Message ?? "");
    }
}
