namespace Flannel.Lab;

/// <summary>How to build a lab cluster.</summary>
public sealed record LabOptions
{
    /// <summary>Number of node namespaces (192.0.2.1, .2, ...).</summary>
    public int Nodes { get; init; } = 3;

    /// <summary>net-conf.json written to etcd at <c>/coreos.com/network/config</c> (or, without etcd, to the file a
    /// Kubernetes-mode flanneld reads); null writes nothing.</summary>
    public string? NetConfig { get; init; } = """{"Network":"198.18.0.0/16","SubnetLen":24,"Backend":{"Type":"vxlan"}}""";

    /// <summary>Whether the underlay runs etcd and flanneld is pointed at it; off when another store (a Kubernetes API
    /// server) stands in.</summary>
    public bool Etcd { get; init; } = true;

    /// <summary>Where flanneld and the flannel CNI plugin are (FLANNEL_BIN_DIR, else artifacts/bin of the checkout).</summary>
    public string BinDir { get; init; } = LabPaths.BinDir;

    /// <summary>
    /// etcd members. 1 (default): one etcd in the underlay namespace at 192.0.2.254. More: each member in its own
    /// namespace on the underlay bridge at 192.0.2.253, .252, ...; flanneld and etcdctl get every member's endpoint.
    /// </summary>
    public int EtcdMembers { get; init; } = 1;

    /// <summary>
    /// Dual-stack underlay: the bridge also holds <see cref="LabPaths.UnderlayGatewayIPv6"/>, each node gets
    /// 2001:db8:0:1::&lt;n&gt;/64 (no DAD, usable at once) and a default IPv6 route, and forwards IPv6. The net-conf must
    /// still ask for IPv6 (EnableIPv6, IPv6Network) for flanneld to use it.
    /// </summary>
    public bool IPv6 { get; init; }

    /// <summary>A name prefix for namespaces; a fresh random one per cluster by default, so runs never collide.</summary>
    public string Prefix { get; init; } = "fl" + Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(3));
}
