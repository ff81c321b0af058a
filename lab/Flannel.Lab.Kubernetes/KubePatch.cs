using System.Text.Json.Nodes;

namespace Flannel.Lab.Kubernetes;

/// <summary>
/// The three patch types the API server accepts, applied to Node JSON: strategic merge (maps merge, lists replace
/// except lists with a merge key such as status.conditions by type; <c>$patch</c> directives), JSON merge (RFC 7386)
/// and JSON patch (RFC 6902).
/// </summary>
internal static class KubePatch
{
    private static readonly Dictionary<string, string> MergeKeys = new(StringComparer.Ordinal)
    {
        ["status.conditions"] = "type",
        ["status.addresses"] = "type",
        ["status.volumesAttached"] = "name",
    };

    public static JsonObject StrategicMerge(JsonObject target, JsonObject patch) =>
        (JsonObject)StrategicMerge(target, patch, "")!;

    public static JsonObject JsonMerge(JsonObject target, JsonObject patch) => (JsonObject)JsonMerge((JsonNode)target, patch)!;

    public static JsonObject JsonPatch(JsonObject target, JsonArray operations)
    {
        JsonNode root = target.DeepClone();
        foreach (JsonNode? node in operations)
        {
            JsonObject op = node as JsonObject ?? throw new PatchException("JSON patch operation is not an object");
            string kind = (string?)op["op"] ?? throw new PatchException("JSON patch operation without op");
            string path = (string?)op["path"] ?? throw new PatchException("JSON patch operation without path");
            switch (kind)
            {
                case "add":
                    Add(root, path, op["value"]?.DeepClone());
                    break;
                case "remove":
                    Remove(root, path);
                    break;
                case "replace":
                    Remove(root, path);
                    Add(root, path, op["value"]?.DeepClone());
                    break;
                case "test":
                    if (!JsonNode.DeepEquals(Resolve(root, path), op["value"]))
                    {
                        throw new PatchException($"test operation failed at {path}");
                    }

                    break;
                default:
                    throw new PatchException($"unsupported JSON patch op {kind}");
            }
        }

        return (JsonObject)root;
    }

    private static JsonNode? StrategicMerge(JsonNode? target, JsonNode? patch, string path)
    {
        if (patch is not JsonObject patchObject)
        {
            return patch?.DeepClone();
        }

        string? directive = (string?)(patchObject["$patch"] as JsonValue);
        if (directive == "replace")
        {
            var replaced = (JsonObject)patchObject.DeepClone();
            replaced.Remove("$patch");
            return replaced;
        }

        var result = target is JsonObject t ? (JsonObject)t.DeepClone() : [];
        foreach ((string key, JsonNode? value) in patchObject)
        {
            if (key.StartsWith('$'))
            {
                continue;
            }

            string childPath = path.Length == 0 ? key : path + "." + key;
            if (value is null)
            {
                result.Remove(key);
            }
            else if (value is JsonArray list && MergeKeys.TryGetValue(childPath, out string? mergeKey))
            {
                result[key] = MergeList(result[key] as JsonArray, list, mergeKey, childPath);
            }
            else
            {
                result[key] = StrategicMerge(result[key], value, childPath);
            }
        }

        return result;
    }

    private static JsonArray MergeList(JsonArray? target, JsonArray patch, string mergeKey, string path)
    {
        var result = target is null ? [] : (JsonArray)target.DeepClone();
        foreach (JsonNode? item in patch)
        {
            if (item is not JsonObject patchItem || patchItem[mergeKey] is not JsonValue keyValue)
            {
                throw new PatchException($"{path}: list item without merge key {mergeKey}");
            }

            string key = keyValue.ToString();
            int index = -1;
            for (int i = 0; i < result.Count; i++)
            {
                if (result[i] is JsonObject existing && existing[mergeKey]?.ToString() == key)
                {
                    index = i;
                    break;
                }
            }

            if ((string?)(patchItem["$patch"] as JsonValue) == "delete")
            {
                if (index >= 0)
                {
                    result.RemoveAt(index);
                }

                continue;
            }

            if (index >= 0)
            {
                result[index] = StrategicMerge(result[index], patchItem, path);
            }
            else
            {
                result.Add(StrategicMerge(null, patchItem, path));
            }
        }

        return result;
    }

    private static JsonNode? JsonMerge(JsonNode? target, JsonNode? patch)
    {
        if (patch is not JsonObject patchObject)
        {
            return patch?.DeepClone();
        }

        var result = target is JsonObject t ? (JsonObject)t.DeepClone() : [];
        foreach ((string key, JsonNode? value) in patchObject)
        {
            if (value is null)
            {
                result.Remove(key);
            }
            else
            {
                result[key] = JsonMerge(result[key], value);
            }
        }

        return result;
    }

    private static string[] Pointer(string path) =>
        path.Length == 0 ? [] : path[1..].Split('/').Select(p => p.Replace("~1", "/", StringComparison.Ordinal).Replace("~0", "~", StringComparison.Ordinal)).ToArray();

    private static JsonNode? Resolve(JsonNode root, string path)
    {
        JsonNode? current = root;
        foreach (string part in Pointer(path))
        {
            current = current switch
            {
                JsonObject o => o.TryGetPropertyValue(part, out JsonNode? v) ? v : throw new PatchException($"path {path} not found"),
                JsonArray a when int.TryParse(part, out int i) && i < a.Count => a[i],
                _ => throw new PatchException($"path {path} not found"),
            };
        }

        return current;
    }

    private static (JsonNode Parent, string Last) Parent(JsonNode root, string path)
    {
        string[] parts = Pointer(path);
        if (parts.Length == 0)
        {
            throw new PatchException("cannot patch the root");
        }

        JsonNode parent = Resolve(root, "/" + string.Join('/', parts[..^1].Select(p => p.Replace("~", "~0", StringComparison.Ordinal).Replace("/", "~1", StringComparison.Ordinal))))
            ?? throw new PatchException($"parent of {path} is null");
        return (parent, parts[^1]);
    }

    private static void Add(JsonNode root, string path, JsonNode? value)
    {
        (JsonNode parent, string last) = Parent(root, path);
        switch (parent)
        {
            case JsonObject o:
                o[last] = value;
                break;
            case JsonArray a when last == "-":
                a.Add(value);
                break;
            case JsonArray a when int.TryParse(last, out int i) && i <= a.Count:
                a.Insert(i, value);
                break;
            default:
                throw new PatchException($"cannot add at {path}");
        }
    }

    private static void Remove(JsonNode root, string path)
    {
        (JsonNode parent, string last) = Parent(root, path);
        switch (parent)
        {
            case JsonObject o when o.ContainsKey(last):
                o.Remove(last);
                break;
            case JsonArray a when int.TryParse(last, out int i) && i < a.Count:
                a.RemoveAt(i);
                break;
            default:
                throw new PatchException($"path {path} not found");
        }
    }
}

internal sealed class PatchException : Exception
{
    public PatchException()
    {
    }

    public PatchException(string message)
        : base(message)
    {
    }

    public PatchException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
