using System.Buffers;
using System.Globalization;
using System.IO.Pipelines;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Security;
using System.Runtime.CompilerServices;
using System.Security.Cryptography.X509Certificates;
using k8s;
using k8s.Authentication;
using k8s.Autorest;

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

    /// <summary>
    /// Builds the client from a KubernetesClient configuration (kubeconfig, URL or in-cluster): the TLS settings, client
    /// certificate and credentials that KubernetesClient's <c>Kubernetes</c> class would set up. That class itself is
    /// not used: constructing it links KubernetesClient's generated API and its JSON metadata for every Kubernetes type
    /// (6 MB of code, and the image's start-up data with it) into flanneld, which costs every daemon RSS, also in etcd mode.
    /// </summary>
    public static KubeApiClient FromConfiguration(KubernetesClientConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        if (string.IsNullOrWhiteSpace(configuration.Host) || !Uri.TryCreate(configuration.Host, UriKind.Absolute, out Uri? baseUri))
        {
            throw new k8s.Exceptions.KubeConfigException($"bad API server URL \"{configuration.Host}\"");
        }

        var handler = new SocketsHttpHandler
        {
            KeepAlivePingPolicy = HttpKeepAlivePingPolicy.WithActiveRequests,
            KeepAlivePingDelay = TimeSpan.FromMinutes(3),
            KeepAlivePingTimeout = TimeSpan.FromSeconds(30),
        };
        try
        {
            if (baseUri.Scheme == Uri.UriSchemeHttps)
            {
                ConfigureTls(handler, configuration);
            }

            // Watches last minutes: the per-request timeouts are ours (RequestTimeout), not HttpClient's.
            var http = new HttpClient(handler, disposeHandler: true) { Timeout = Timeout.InfiniteTimeSpan };
            ServiceClientCredentials? credentials = CredentialsFor(configuration);
            return new KubeApiClient(http, baseUri, credentials is null ? null : credentials.ProcessHttpRequestAsync, http);
        }
        catch
        {
            handler.Dispose();
            throw;
        }
    }

    private static void ConfigureTls(SocketsHttpHandler handler, KubernetesClientConfiguration configuration)
    {
        if (configuration.SkipTlsVerify)
        {
#pragma warning disable CA5359 // The kubeconfig says insecure-skip-tls-verify: the user asked for no server check.
            handler.SslOptions.RemoteCertificateValidationCallback = (_, _, _, _) => true;
#pragma warning restore CA5359
        }
        else
        {
            X509Certificate2Collection trusted = configuration.SslCaCerts
                ?? throw new k8s.Exceptions.KubeConfigException("a CA must be set when insecure-skip-tls-verify is false");
            handler.SslOptions.RemoteCertificateValidationCallback = (_, certificate, _, errors) => AcceptsServer(trusted, certificate, errors);
        }

        if (!string.IsNullOrEmpty(configuration.TlsServerName))
        {
            handler.SslOptions.TargetHost = configuration.TlsServerName;
        }

        if (ClientCertificate(configuration) is { } clientCertificate)
        {
            handler.SslOptions.ClientCertificates = [clientCertificate];
        }
    }

    /// <summary>The kubeconfig's client certificate and key (inline base64 PEM or files), when it names both.</summary>
    private static X509Certificate2? ClientCertificate(KubernetesClientConfiguration configuration)
    {
        string? certificate = Pem(configuration.ClientCertificateData, configuration.ClientCertificateFilePath);
        string? key = Pem(configuration.ClientCertificateKeyData, configuration.ClientKeyFilePath);
        return certificate is not null && key is not null ? X509Certificate2.CreateFromPem(certificate, key) : null;

        static string? Pem(string? base64, string? path) =>
            !string.IsNullOrWhiteSpace(base64) ? System.Text.Encoding.UTF8.GetString(Convert.FromBase64String(base64))
            : !string.IsNullOrWhiteSpace(path) ? File.ReadAllText(path)
            : null;
    }

    /// <summary>A server certificate is good when the system already trusts it, or when it chains to one of the cluster's CAs.</summary>
    private static bool AcceptsServer(X509Certificate2Collection trusted, X509Certificate? certificate, SslPolicyErrors errors) =>
        errors == SslPolicyErrors.None || CustomRootTrust.ChainsTo(trusted, certificate, errors);

    /// <summary>As KubernetesClient picks them: a token provider (in-cluster token file, exec plugin), a token, else user and password.</summary>
    private static ServiceClientCredentials? CredentialsFor(KubernetesClientConfiguration configuration)
    {
        if (configuration.TokenProvider is { } provider)
        {
            return new TokenCredentials(provider);
        }

        if (!string.IsNullOrEmpty(configuration.AccessToken))
        {
            return new TokenCredentials(configuration.AccessToken);
        }

        if (!string.IsNullOrEmpty(configuration.Username))
        {
            return new BasicAuthenticationCredentials { UserName = configuration.Username, Password = configuration.Password };
        }

        return null;
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
