using Flanneld.Options;

namespace Flanneld.Leases.Etcd;

/// <summary>
/// How to reach etcd and how the lease store behaves. Deliberately not a record: a record's generated ToString
/// would print <see cref="Password"/>.
/// </summary>
public sealed class EtcdStoreOptions
{
    /// <summary>Client URLs, tried in order; the store moves to the next one when the current one is unreachable.</summary>
    public IReadOnlyList<string> Endpoints { get; init; } = ["http://127.0.0.1:2379"];

    /// <summary>Key prefix: the config lives at <c>&lt;prefix&gt;/config</c>, leases under <c>&lt;prefix&gt;/subnets/</c>.</summary>
    public string Prefix { get; init; } = "/coreos.com/network";

    /// <summary>PEM client key (with <see cref="CertFile"/>, for TLS client authentication).</summary>
    public string? KeyFile { get; init; }

    /// <summary>PEM client certificate.</summary>
    public string? CertFile { get; init; }

    /// <summary>PEM CA bundle that the server certificate must chain to (instead of the system roots).</summary>
    public string? CaFile { get; init; }

    public string? Username { get; init; }

    public string? Password { get; init; }

    /// <summary>Lease lifetime (upstream's subnetTTL, 24 h); --subnet-lease-ttl.</summary>
    public TimeSpan SubnetLeaseTtl { get; init; } = TimeSpan.FromHours(24);

    /// <summary>Deadline of one etcd request (see <see cref="CallTimeout"/>).</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// The deadline a request actually gets: <see cref="RequestTimeout"/>, but at most a third of the lease TTL. An
    /// etcd member that is restarting accepts connections before it serves them; a renewal stuck there for the whole
    /// RequestTimeout would let a short lease expire (etcd gives every lease one TTL from a new leader's election),
    /// where moving on to another member, or retrying, would have kept it.
    /// </summary>
    public TimeSpan CallTimeout => SubnetLeaseTtl / 3 < RequestTimeout ? SubnetLeaseTtl / 3 : RequestTimeout;

    /// <summary>How long acquire and renew keep retrying while etcd is unreachable before they give up.</summary>
    public TimeSpan RetryTimeout { get; init; } = TimeSpan.FromMinutes(1);

    /// <summary>First delay before a watch reconnects (or an acquire/renew retries); doubles up to <see cref="ReconnectBackoffMax"/>.</summary>
    public TimeSpan ReconnectBackoffMin { get; init; } = TimeSpan.FromMilliseconds(100);

    public TimeSpan ReconnectBackoffMax { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>How many times acquire starts over with a fresh list after another node took the subnet it chose.</summary>
    public int RaceRetries { get; init; } = 20;

    /// <summary>
    /// Keys read per request when listing leases (the snapshot is read at one revision, page by page). A page's gRPC
    /// message buffer stays in the shared array pool afterwards: 1,000 leases make a ~250 KB page (5,000 kept ~1.4 MiB
    /// more resident with 10,000 peers, at the same speed).
    /// </summary>
    public int ListPageSize { get; init; } = 1000;

    /// <summary>
    /// The longest pause between renewal attempts while etcd is unreachable: <see cref="ReconnectBackoffMax"/>, but
    /// at most an eighth of the lease TTL. When etcd comes back from an outage it gives every lease one TTL (plus an
    /// election timeout) from the new leader's election; the renewal must land inside that window.
    /// </summary>
    public TimeSpan RenewBackoffMax => SubnetLeaseTtl / 8 < ReconnectBackoffMax ? SubnetLeaseTtl / 8 : ReconnectBackoffMax;

    /// <summary>The delay after <paramref name="current"/>: doubled, at most <paramref name="max"/> (<see cref="ReconnectBackoffMax"/> by default).</summary>
    public TimeSpan NextBackoff(TimeSpan current, TimeSpan? max = null)
    {
        TimeSpan limit = max ?? ReconnectBackoffMax;
        return current * 2 < limit ? current * 2 : limit;
    }

    public static EtcdStoreOptions FromFlanneld(FlanneldOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return new EtcdStoreOptions
        {
            Endpoints = options.EtcdEndpoints,
            Prefix = options.EtcdPrefix,
            KeyFile = options.EtcdKeyFile,
            CertFile = options.EtcdCertFile,
            CaFile = options.EtcdCaFile,
            Username = options.EtcdUsername,
            Password = options.EtcdPassword,
            SubnetLeaseTtl = options.SubnetLeaseTtl,
        };
    }

    /// <summary>Throws <see cref="ArgumentException"/> naming the flag and the value at fault.</summary>
    public void Validate()
    {
        if (Endpoints.Count == 0)
        {
            throw new ArgumentException("--etcd-endpoints is empty: give at least one etcd client URL", nameof(Endpoints));
        }

        foreach (string endpoint in Endpoints)
        {
            if (!Uri.TryCreate(endpoint, UriKind.Absolute, out Uri? uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
            {
                throw new ArgumentException($"--etcd-endpoints: '{endpoint}' is not an http:// or https:// URL", nameof(Endpoints));
            }
        }

        if (string.IsNullOrEmpty(Prefix) || Prefix[0] != '/')
        {
            throw new ArgumentException($"--etcd-prefix: '{Prefix}' must start with '/'", nameof(Prefix));
        }

        if ((KeyFile is null) != (CertFile is null))
        {
            throw new ArgumentException($"--etcd-certfile ('{CertFile}') and --etcd-keyfile ('{KeyFile}') go together", nameof(CertFile));
        }

        if (SubnetLeaseTtl < TimeSpan.FromSeconds(1) || SubnetLeaseTtl.TotalSeconds > int.MaxValue)
        {
            throw new ArgumentException($"--subnet-lease-ttl: {SubnetLeaseTtl} is outside 1 s .. {int.MaxValue} s", nameof(SubnetLeaseTtl));
        }
    }
}
