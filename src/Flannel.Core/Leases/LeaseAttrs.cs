using System.Net;

namespace Flannel.Core.Leases;

/// <summary>
/// What a node advertises with its lease: the etcd value, and the content of the Kubernetes annotations.
/// <see cref="BackendData"/> and <see cref="BackendV6Data"/> hold compact raw JSON, kept as the writer wrote it.
/// </summary>
public sealed record LeaseAttrs(
    IPAddress PublicIP,
    IPAddress? PublicIPv6 = null,
    string? BackendType = null,
    string? BackendData = null,
    string? BackendV6Data = null);
