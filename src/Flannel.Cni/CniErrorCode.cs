namespace Flannel.Cni;

/// <summary>The CNI spec's well-known error codes (1-99), plus the status codes of CNI 1.1.</summary>
internal static class CniErrorCode
{
    public const int IncompatibleVersion = 1;
    public const int UnsupportedField = 2;
    public const int UnknownContainer = 3;
    public const int InvalidEnvironmentVariables = 4;
    public const int IoFailure = 5;
    public const int DecodingFailure = 6;
    public const int InvalidNetworkConfig = 7;
    public const int TryAgainLater = 11;
    public const int PluginNotAvailable = 50;

    /// <summary>What libcni's skel uses for errors without a well-known code.</summary>
    public const int Internal = 999;
}
