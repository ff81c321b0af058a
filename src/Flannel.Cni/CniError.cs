using System.Diagnostics.CodeAnalysis;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Flannel.Cni;

/// <summary>The spec's error object: <c>{"cniVersion","code","msg","details"}</c>.</summary>
internal static class CniError
{
    public static byte[] Format(string cniVersion, CniException error)
    {
        ArgumentNullException.ThrowIfNull(error);
        var text = new StringBuilder(256);
        text.Append("{\"cniVersion\":");
        GoJson.WriteString(text, cniVersion);
        text.Append(",\"code\":").Append(error.Code);
        text.Append(",\"msg\":");
        GoJson.WriteString(text, error.Message);
        if (error.Details.Length > 0)
        {
            text.Append(",\"details\":");
            GoJson.WriteString(text, error.Details);
        }

        text.Append("}\n");
        return Encoding.UTF8.GetBytes(text.ToString());
    }

    /// <summary>Reads a delegate's error object from its stdout.</summary>
    public static bool TryParse(byte[] output, [NotNullWhen(true)] out CniException? error)
    {
        error = null;
        try
        {
            if (output.Length == 0 || JsonNode.Parse(output) is not JsonObject obj
                || obj["code"] is not JsonValue code || code.GetValueKind() != JsonValueKind.Number
                || !code.TryGetValue(out int value))
            {
                return false;
            }

            error = new CniException(value, Text(obj["msg"]), Text(obj["details"]));
            return true;
        }
        catch (JsonException)
        {
            return false;
        }
    }

    private static string Text(JsonNode? node) =>
        JsonTree.StringOf(node) ?? "";
}
