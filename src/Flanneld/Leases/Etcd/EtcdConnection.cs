using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using Etcdserverpb;
using Grpc.Core;
using Grpc.Core.Interceptors;
using Grpc.Net.Client;

namespace Flanneld.Leases.Etcd;

/// <summary>
/// gRPC channels to the etcd endpoints, with TLS and user/password authentication. Calls go to the current endpoint;
/// when it is unreachable the connection moves on to the next one (the default endpoint list names a port, 4001,
/// that is usually closed).
/// </summary>
internal sealed class EtcdConnection : IDisposable
{
    /// <summary>etcd's require-leader metadata (clientv3's WithRequireLeader).</summary>
    private static readonly Metadata.Entry RequireLeader = new("hasleader", "true");

    private readonly EtcdStoreOptions _options;
    private readonly GrpcChannel[] _channels;
    private readonly CallInvoker[] _invokers;
    private readonly SemaphoreSlim _authLock = new(1, 1);
    private int _current;
    private string? _token;

    /// <param name="options">Endpoints, TLS, credentials and timeouts.</param>
    /// <param name="countRequest">Called with the operation name (<see cref="EtcdRequestCounter"/>) of every request sent; null: not counted.</param>
    public EtcdConnection(EtcdStoreOptions options, Action<string>? countRequest = null)
    {
        _options = options;
        X509Certificate2Collection? trusted = null;
        if (options.CaFile is not null)
        {
            trusted = [];
            trusted.ImportFromPemFile(options.CaFile);
        }

        X509Certificate2? clientCertificate = options.CertFile is not null && options.KeyFile is not null
            ? X509Certificate2.CreateFromPemFile(options.CertFile, options.KeyFile)
            : null;

        _channels = new GrpcChannel[options.Endpoints.Count];
        _invokers = new CallInvoker[options.Endpoints.Count];
        EtcdRequestCounter? counter = countRequest is null ? null : new EtcdRequestCounter(countRequest);
        for (int i = 0; i < _channels.Length; i++)
        {
            _channels[i] = GrpcChannel.ForAddress(options.Endpoints[i], new GrpcChannelOptions
            {
                HttpHandler = CreateHandler(trusted, clientCertificate),
                DisposeHttpClient = true,
                MaxReceiveMessageSize = null,
                MaxSendMessageSize = null,
            });
            _invokers[i] = counter is null ? _channels[i].CreateCallInvoker() : _channels[i].Intercept(counter);
        }
    }

    public string CurrentEndpoint => _options.Endpoints[Volatile.Read(ref _current)];

    /// <summary>
    /// Runs a call against the current endpoint, moving to the next on Unavailable and re-authenticating once. The
    /// call carries <c>hasleader</c>: a member without a leader (etcd restarting, or cut off from the others) answers
    /// "no leader" (Unavailable) at once instead of holding the request until etcd's own timeout (~7 s), so the call
    /// moves on to a member that has one. A renewal delayed that long after an outage can miss the short window etcd
    /// gives a lease once a leader is elected again.
    /// </summary>
    public async Task<T> CallAsync<T>(Func<CallInvoker, CallOptions, Task<T>> call, CancellationToken cancellationToken)
    {
        bool reauthenticated = false;
        int failovers = 0;
        while (true)
        {
            int index = Volatile.Read(ref _current);
            Metadata headers = await HeadersAsync(index, cancellationToken).ConfigureAwait(false) ?? [];
            headers.Add(RequireLeader);
            var options = new CallOptions(headers, DateTime.UtcNow + _options.CallTimeout, cancellationToken);
            try
            {
                return await call(_invokers[index], options).ConfigureAwait(false);
            }
            catch (RpcException ex) when (ex.StatusCode == StatusCode.Unauthenticated && _options.Username is not null && !reauthenticated)
            {
                // etcd's simple tokens expire (5 min by default); fetch a new one and try again.
                reauthenticated = true;
                _token = null;
            }
            catch (RpcException ex) when (IsUnreachable(ex, cancellationToken) && ++failovers < _channels.Length)
            {
                ReportUnreachable(index);
            }
        }
    }

    /// <summary>Options for a long-lived stream (the watch): no deadline; <c>hasleader</c> makes etcd end it when it loses its leader.</summary>
    public async Task<(CallInvoker Invoker, CallOptions Options, int Index)> StreamAsync(CancellationToken cancellationToken)
    {
        int index = Volatile.Read(ref _current);
        Metadata headers = await HeadersAsync(index, cancellationToken).ConfigureAwait(false) ?? [];
        headers.Add(RequireLeader);
        return (_invokers[index], new CallOptions(headers, null, cancellationToken), index);
    }

    /// <summary>Moves to the next endpoint, unless another caller already did.</summary>
    public void ReportUnreachable(int index)
    {
        Interlocked.CompareExchange(ref _current, (index + 1) % _channels.Length, index);
    }

    /// <summary>Forgets the auth token, so that the next call authenticates again.</summary>
    public void ReportUnauthenticated() => _token = null;

    public static bool IsUnreachable(RpcException ex, CancellationToken cancellationToken) =>
        ex.StatusCode == StatusCode.Unavailable
        || (ex.StatusCode == StatusCode.DeadlineExceeded && !cancellationToken.IsCancellationRequested);

    /// <summary>Errors worth another try later: etcd or the path to it is down, restarting, or changing leader.</summary>
    public static bool IsTransient(Exception ex, CancellationToken cancellationToken) => ex switch
    {
        RpcException rpc => rpc.StatusCode is StatusCode.Unavailable or StatusCode.DeadlineExceeded or StatusCode.Unknown or StatusCode.Internal or StatusCode.Unauthenticated
            || (rpc.StatusCode == StatusCode.Cancelled && !cancellationToken.IsCancellationRequested),
        IOException or HttpRequestException => true,
        _ => false,
    };

    public void Dispose()
    {
        foreach (GrpcChannel channel in _channels)
        {
            channel.Dispose();
        }

        _authLock.Dispose();
    }

    private async Task<Metadata?> HeadersAsync(int index, CancellationToken cancellationToken)
    {
        if (_options.Username is null)
        {
            return null;
        }

        string? token = _token;
        if (token is null)
        {
            await _authLock.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                token = _token;
                if (token is null)
                {
                    var auth = new Auth.AuthClient(_invokers[index]);
                    AuthenticateResponse response = await auth.AuthenticateAsync(
                        new AuthenticateRequest { Name = _options.Username, Password = _options.Password ?? string.Empty },
                        deadline: DateTime.UtcNow + _options.CallTimeout,
                        cancellationToken: cancellationToken).ResponseAsync.ConfigureAwait(false);
                    token = _token = response.Token;
                }
            }
            finally
            {
                _authLock.Release();
            }
        }

        return [new Metadata.Entry("token", token)];
    }

    private SocketsHttpHandler CreateHandler(X509Certificate2Collection? trusted, X509Certificate2? clientCertificate)
    {
        var handler = new SocketsHttpHandler
        {
            ConnectTimeout = _options.CallTimeout,
            EnableMultipleHttp2Connections = true,
            PooledConnectionIdleTimeout = Timeout.InfiniteTimeSpan,

            // HTTP/2 pings notice a dead etcd (or a dead path to it) on an otherwise idle watch stream.
            KeepAlivePingDelay = TimeSpan.FromSeconds(30),
            KeepAlivePingTimeout = TimeSpan.FromSeconds(10),
            KeepAlivePingPolicy = HttpKeepAlivePingPolicy.Always,
        };
        if (clientCertificate is not null)
        {
            handler.SslOptions.ClientCertificates = [clientCertificate];
        }

        if (trusted is not null)
        {
            handler.SslOptions.RemoteCertificateValidationCallback = (_, certificate, _, errors) => CustomRootTrust.ChainsTo(trusted, certificate, errors);
        }

        return handler;
    }
}
