using System.Text;

namespace Flannel.Cni.Commands;

/// <summary>VERSION: the spec versions we speak, 0.1.0 to 1.1.0.</summary>
internal static class VersionCommand
{
    public static void Run(Invocation invocation)
    {
        var text = new StringBuilder("{\"cniVersion\":\"").Append(CniVersion.Latest).Append("\",\"supportedVersions\":[");
        for (int i = 0; i < CniVersion.Supported.Length; i++)
        {
            text.Append(i == 0 ? "\"" : ",\"").Append(CniVersion.Supported[i]).Append('"');
        }

        text.Append("]}\n");
        invocation.Stdout.Write(Encoding.UTF8.GetBytes(text.ToString()));
    }
}
