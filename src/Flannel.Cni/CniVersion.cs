namespace Flannel.Cni;

/// <summary>The CNI spec versions this plugin speaks, and the result shape each one uses.</summary>
internal static class CniVersion
{
    public const string Latest = "1.1.0";

    /// <summary>What the runtime means when a configuration has no <c>cniVersion</c>.</summary>
    public const string Implicit = "0.1.0";

    public static readonly string[] Supported = ["0.1.0", "0.2.0", "0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0"];

    public static bool IsSupported(string version) => Array.IndexOf(Supported, version) >= 0;

    /// <summary>Orders two supported versions; unsupported ones sort first.</summary>
    public static int Compare(string left, string right) =>
        Array.IndexOf(Supported, left).CompareTo(Array.IndexOf(Supported, right));

    public static bool AtLeast(string version, string minimum) => Compare(version, minimum) >= 0;

    public static ResultShape ShapeOf(string version) => version switch
    {
        "0.1.0" or "0.2.0" => ResultShape.Legacy,
        "0.3.0" or "0.3.1" or "0.4.0" => ResultShape.Versioned,
        _ => ResultShape.Current,
    };
}

/// <summary>The three result layouts the spec has had.</summary>
internal enum ResultShape
{
    /// <summary>0.1.0 and 0.2.0: <c>ip4</c>/<c>ip6</c> objects.</summary>
    Legacy,

    /// <summary>0.3.x and 0.4.0: <c>interfaces</c>/<c>ips</c>, each ip carrying <c>version</c>.</summary>
    Versioned,

    /// <summary>1.x: <c>interfaces</c>/<c>ips</c> without <c>version</c>.</summary>
    Current,
}
