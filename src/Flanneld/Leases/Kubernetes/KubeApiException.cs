using System.Net;

namespace Flanneld.Leases.Kubernetes;

/// <summary>The API server answered with an error status; <see cref="Status"/> is its Status object when it sent one.</summary>
public sealed class KubeApiException : Exception
{
    public KubeApiException()
    {
    }

    public KubeApiException(string message)
        : base(message)
    {
    }

    public KubeApiException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    internal KubeApiException(HttpStatusCode statusCode, string request, KubeStatus? status)
        : base($"{request}: {(int)statusCode} {status?.Reason ?? statusCode.ToString()}{(string.IsNullOrEmpty(status?.Message) ? "" : ": " + status.Message)}")
    {
        StatusCode = statusCode;
        Reason = status?.Reason;
    }

    public HttpStatusCode StatusCode { get; }

    /// <summary>The Status reason (<c>NotFound</c>, <c>Expired</c>, <c>Conflict</c>...), when the server sent one.</summary>
    public string? Reason { get; }

    /// <summary>410 Gone: the resourceVersion (or continue token) is older than the server's history.</summary>
    public bool IsExpired => StatusCode == HttpStatusCode.Gone;
}
