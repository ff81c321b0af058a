using System.Buffers;
using System.Globalization;
using System.IO.Pipelines;
using System.Net;
using System.Net.Http.Headers;
using System.Runtime.CompilerServices;
using k8s;

namespace Flanneld.Leases.Kubernetes;

/// <summary>
/// The handful of API calls flannel makes, sent on KubernetesClient's configured <see cref="HttpClient"/> (TLS, CA,
/// client certificates) with its credentials applied to each request (tokens, exec plugins). Requests and responses are
/// our own: exact patch bytes, and responses read by <see cref="NodeJson"/> without building whole Node objects.
/// </summary>
internal sealed class KubeApiClient : IDisposable
{
    private const string JsonType = "application/json";

    /// <summary>Metadata only when the server can, whole objects otherwise (as client-go's metadata client asks).</summary>
    private const string MetadataOnlyAccept = "application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1, application/json";
    private static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(30);
    private readonly HttpClient _http;
    private readonly string _base;
    private readonly Func<HttpRequestMessage, CancellationToken, Task>? _authenticate;
    private readonly IDisposable? _owner;
    private long _bytesReceived;

    public KubeApiClient(HttpClient http, Uri baseUri, Func<HttpRequestMessage, CancellationToken, Task>? authenticate, IDisposable? owner = null)
    {
        ArgumentNullException.ThrowIfNull(baseUri);
        _http = http;
        _base = baseUri.GetLeftPart(UriPartial.Path).TrimEnd('/');
        _authenticate = authenticate;
        _owner = owner;
    }

    /// <summary>Bytes of response bodies read so far (lists, watches, gets): what the watch costs on the wire.</summary>
    public long BytesReceived => Interlocked.Read(ref _bytesReceived);

    /// <summary>Builds the client from a KubernetesClient configuration (kubeconfig, URL or in-cluster).</summary>
    public static KubeApiClient FromConfiguration(KubernetesClientConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);

        // Watches last minutes: the per-request timeouts are ours (RequestTimeout), not HttpClient's.
        configuration.HttpClientTimeout = Timeout.InfiniteTimeSpan;
        var kubernetes = new k8s.Kubernetes(configuration);
        var credentials = kubernetes.Credentials;
        return new KubeApiClient(
            kubernetes.HttpClient,
            kubernetes.BaseUri,
            credentials is null ? null : credentials.ProcessHttpRequestAsync,
            kubernetes);
    }

    public async Task<NodeInfo> GetNodeAsync(string name, string annotationPrefix, CancellationToken cancellationToken)
    {
        byte[] body = await SendAsync(HttpMethod.Get, $"/api/v1/nodes/{Uri.EscapeDataString(name)}", null, null, cancellationToken).ConfigureAwait(false);
        return NodeJson.ReadNode(body, annotationPrefix);
    }

    /// <summary>One page of <c>GET /api/v1/nodes</c>, a consistent read from the store (no resourceVersion).</summary>
    public async Task<NodeListPage> ListNodesAsync(int limit, string? continueToken, string annotationPrefix, CancellationToken cancellationToken)
    {
        string path = string.Create(CultureInfo.InvariantCulture, $"/api/v1/nodes?limit={limit}");
        if (continueToken is not null)
        {
            path += "&continue=" + Uri.EscapeDataString(continueToken);
        }

        byte[] body = await SendAsync(HttpMethod.Get, path, null, null, cancellationToken).ConfigureAwait(false);
        return NodeJson.ReadNodeList(body, annotationPrefix);
    }

    /// <summary>
    /// <c>GET /api/v1/nodes?watch=true</c> from <paramref name="resourceVersion"/>, with bookmarks; yields events until the
    /// server ends the stream (its timeoutSeconds) or cancellation. An HTTP error status throws <see cref="KubeApiException"/>.
    /// </summary>
    public async IAsyncEnumerable<NodeWatchEvent> WatchNodesAsync(
        string resourceVersion,
        int timeoutSeconds,
        string annotationPrefix,
        bool metadataOnly,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        string path = string.Create(
            CultureInfo.InvariantCulture,
            $"/api/v1/nodes?watch=true&resourceVersion={Uri.EscapeDataString(resourceVersion)}&allowWatchBookmarks=true&timeoutSeconds={timeoutSeconds}");
        using var request = new HttpRequestMessage(HttpMethod.Get, _base + path);
        request.Headers.TryAddWithoutValidation("Accept", metadataOnly ? MetadataOnlyAccept : JsonType);
        if (_authenticate is not null)
        {
            await _authenticate(request, cancellationToken).ConfigureAwait(false);
        }

        using HttpResponseMessage response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode)
        {
            byte[] error = await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
            throw new KubeApiException(response.StatusCode, "watch nodes", NodeJson.TryReadStatus(error));
        }

        Stream stream = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        PipeReader pipe = PipeReader.Create(stream, new StreamPipeReaderOptions(bufferSize: 64 * 1024));
        try
        {
            while (true)
            {
                ReadResult result = await pipe.ReadAsync(cancellationToken).ConfigureAwait(false);
                ReadOnlySequence<byte> buffer = result.Buffer;
                var events = new List<NodeWatchEvent>();
                while (TryReadLine(ref buffer, out ReadOnlySequence<byte> line))
                {
                    Interlocked.Add(ref _bytesReceived, line.Length + 1);
                    if (!IsBlank(line))
                    {
                        events.Add(Parse(line, annotationPrefix));
                    }
                }

                pipe.AdvanceTo(buffer.Start, buffer.End);
                foreach (NodeWatchEvent e in events)
                {
                    yield return e;
                }

                if (result.IsCompleted)
                {
                    // The server closed the watch (timeoutSeconds elapsed, or it restarted): a normal end.
                    yield break;
                }
            }
        }
        finally
        {
            await pipe.CompleteAsync().ConfigureAwait(false);
        }
    }

    /// <summary>PATCH nodes/{name}/status (annotations and conditions are writable there; spec is not).</summary>
    public async Task PatchNodeStatusAsync(string name, byte[] patch, string contentType, CancellationToken cancellationToken) =>
        await SendAsync(HttpMethod.Patch, $"/api/v1/nodes/{Uri.EscapeDataString(name)}/status", patch, contentType, cancellationToken).ConfigureAwait(false);

    public async Task<string?> GetPodNodeNameAsync(string podNamespace, string podName, CancellationToken cancellationToken)
    {
        byte[] body = await SendAsync(
            HttpMethod.Get,
            $"/api/v1/namespaces/{Uri.EscapeDataString(podNamespace)}/pods/{Uri.EscapeDataString(podName)}",
            null,
            null,
            cancellationToken).ConfigureAwait(false);
        return NodeJson.ReadPodNodeName(body);
    }

    public void Dispose() => _owner?.Dispose();

    private static bool TryReadLine(ref ReadOnlySequence<byte> buffer, out ReadOnlySequence<byte> line)
    {
        SequencePosition? newline = buffer.PositionOf((byte)'\n');
        if (newline is null)
        {
            line = default;
            return false;
        }

        line = buffer.Slice(0, newline.Value);
        buffer = buffer.Slice(buffer.GetPosition(1, newline.Value));
        return true;
    }

    private static bool IsBlank(ReadOnlySequence<byte> line)
    {
        foreach (ReadOnlyMemory<byte> segment in line)
        {
            foreach (byte b in segment.Span)
            {
                if (b is not ((byte)' ' or (byte)'\r' or (byte)'\t'))
                {
                    return false;
                }
            }
        }

        return true;
    }

    private static NodeWatchEvent Parse(ReadOnlySequence<byte> line, string annotationPrefix)
    {
        if (line.IsSingleSegment)
        {
            return NodeJson.ReadWatchEvent(line.FirstSpan, annotationPrefix);
        }

        byte[] rented = ArrayPool<byte>.Shared.Rent(checked((int)line.Length));
        try
        {
            line.CopyTo(rented);
            return NodeJson.ReadWatchEvent(rented.AsSpan(0, (int)line.Length), annotationPrefix);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }

    private async Task<byte[]> SendAsync(HttpMethod method, string path, byte[]? content, string? contentType, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(RequestTimeout);
        using var request = new HttpRequestMessage(method, _base + path);
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(JsonType));
        if (content is not null)
        {
            request.Content = new ByteArrayContent(content);
            request.Content.Headers.ContentType = new MediaTypeHeaderValue(contentType ?? JsonType);
        }

        if (_authenticate is not null)
        {
            await _authenticate(request, timeout.Token).ConfigureAwait(false);
        }

        try
        {
            using HttpResponseMessage response = await _http.SendAsync(request, HttpCompletionOption.ResponseContentRead, timeout.Token).ConfigureAwait(false);
            byte[] body = await response.Content.ReadAsByteArrayAsync(timeout.Token).ConfigureAwait(false);
            Interlocked.Add(ref _bytesReceived, body.Length);
            if (!response.IsSuccessStatusCode)
            {
                throw new KubeApiException(response.StatusCode, $"{method} {path}", NodeJson.TryReadStatus(body));
            }

            return body;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException($"{method} {path}: no answer from the API server within {RequestTimeout.TotalSeconds} s");
        }
    }
}
