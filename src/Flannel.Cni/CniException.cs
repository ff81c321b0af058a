namespace Flannel.Cni;

/// <summary>
/// A failure the plugin reports to the runtime as the spec's error object
/// (<c>{"cniVersion","code","msg","details"}</c> on stdout, non-zero exit).
/// </summary>
internal sealed class CniException : Exception
{
    public CniException(int code, string message, string details = "")
        : base(message)
    {
        Code = code;
        Details = details;
    }

    public CniException()
        : this(CniErrorCode.Internal, "internal error")
    {
    }

    public CniException(string message)
        : this(CniErrorCode.Internal, message)
    {
    }

    public CniException(string message, Exception innerException)
        : base(message, innerException)
    {
        Code = CniErrorCode.Internal;
        Details = "";
    }

    public int Code { get; }

    public string Details { get; }
}
