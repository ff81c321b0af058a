using System.Reflection;

namespace Flanneld;

internal static class FlanneldVersion
{
    public static string Text { get; } =
        "v" + (typeof(FlanneldVersion).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0] ?? "0.0.0")
        + " (Flannel.NET)";
}
