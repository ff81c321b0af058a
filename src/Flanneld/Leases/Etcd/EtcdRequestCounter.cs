using Grpc.Core;
using Grpc.Core.Interceptors;

namespace Flanneld.Leases.Etcd;

/// <summary>
/// Counts every request the lease store sends to etcd, by operation (range, txn, put, delete, lease_grant,
/// lease_keepalive, lease_revoke, watch_create, authenticate), as one interceptor on each channel so no call site can
/// be missed. A call is counted when it is sent, whether or not etcd answers: retries and failovers count too.
/// </summary>
internal sealed class EtcdRequestCounter(Action<string> count) : Interceptor
{
    /// <summary>The operation name of an etcd gRPC method. The store opens one keep-alive stream per renewal and one watch stream per create request.</summary>
    public static string OperationOf(string method) => method switch
    {
        "Range" => "range",
        "Txn" => "txn",
        "Put" => "put",
        "DeleteRange" => "delete",
        "LeaseGrant" => "lease_grant",
        "LeaseKeepAlive" => "lease_keepalive",
        "LeaseRevoke" => "lease_revoke",
        "Watch" => "watch_create",
        "Authenticate" => "authenticate",
        _ => method.ToLowerInvariant(),
    };

    public override AsyncUnaryCall<TResponse> AsyncUnaryCall<TRequest, TResponse>(
        TRequest request, ClientInterceptorContext<TRequest, TResponse> context, AsyncUnaryCallContinuation<TRequest, TResponse> continuation)
    {
        ArgumentNullException.ThrowIfNull(continuation);
        count(OperationOf(context.Method.Name));
        return continuation(request, context);
    }

    public override AsyncDuplexStreamingCall<TRequest, TResponse> AsyncDuplexStreamingCall<TRequest, TResponse>(
        ClientInterceptorContext<TRequest, TResponse> context, AsyncDuplexStreamingCallContinuation<TRequest, TResponse> continuation)
    {
        ArgumentNullException.ThrowIfNull(continuation);
        count(OperationOf(context.Method.Name));
        return continuation(context);
    }
}
