using System.Text.Json;
using System.Text.Json.Nodes;

namespace Flannel.Cni;

/// <summary>
/// Parses JSON into the same <see cref="JsonNode"/> tree as <see cref="JsonNode.Parse(ReadOnlySpan{byte}, JsonNodeOptions?, JsonDocumentOptions)"/>,
/// over a document that is never given back. <c>JsonNode.Parse</c> copies its document out of the shared array pool
/// and returns the pooled buffers at once; the second buffer of a size class goes to the pool's per-core stacks, and
/// the first use of those times the processor-number lookup (~0.1 ms of a ~2 ms run). Kept for the process's short
/// life, the document returns only its scratch stack, and the pool never gets that far.
/// </summary>
internal static class JsonTree
{
    /// <summary>Parses <paramref name="utf8"/>; the array must not change afterwards (the tree reads from it).</summary>
    public static JsonNode? Parse(byte[] utf8, JsonDocumentOptions options = default)
    {
#pragma warning disable CA2000 // Never disposed on purpose: see the type's remarks; the tree keeps using it.
        JsonElement root = JsonDocument.Parse(utf8, options).RootElement;
#pragma warning restore CA2000
        return root.ValueKind switch
        {
            JsonValueKind.Object => JsonObject.Create(root),
            JsonValueKind.Array => JsonArray.Create(root),
            JsonValueKind.Null => null,
            _ => JsonValue.Create(root),
        };
    }

    /// <summary>
    /// The text of a JSON string value; null for anything else. <c>JsonValue.GetValue&lt;string&gt;()</c> would give the
    /// same, but it is a generic virtual method: its first call sets up Native AOT's type loader (~0.06 ms a run).
    /// <c>ToString()</c> of a string value is its text, unquoted.
    /// </summary>
    public static string? StringOf(JsonNode? node) =>
        node is JsonValue value && value.GetValueKind() == JsonValueKind.String ? value.ToString() : null;
}
