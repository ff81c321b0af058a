using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using Flannel.Core.Leases;
using Flannel.Core.Net;

namespace Flanneld.Leases.Kubernetes;

/// <summary>
/// Turns a Node into the lease it advertises (upstream's nodeToLease): the subnet(s) from spec.podCIDR(s), the
/// attributes from our annotations. Anything malformed throws <see cref="FormatException"/> naming the field and value.
/// </summary>
internal sealed partial class NodeLeaseConverter
{
    private readonly KubeAnnotations _names;

    public NodeLeaseConverter(KubeAnnotations names)
    {
        _names = names;
    }

    public KubeAnnotations Names => _names;

    /// <summary>Nodes without <c>kube-subnet-manager: "true"</c> are not flannel's and are ignored.</summary>
    public bool IsManaged(NodeInfo node) => node.Annotation(_names.SubnetKubeManaged) == "true";

    /// <summary>What a lease is made of: an update that changes none of these changes nothing for flannel.</summary>
    public LeaseFields Fields(NodeInfo node) => new(
        IsManaged(node),
        node.PodCidr,
        string.Join(',', node.PodCidrs),
        node.Annotation(_names.BackendType),
        node.Annotation(_names.BackendData),
        node.Annotation(_names.BackendV6Data),
        node.Annotation(_names.BackendPublicIP),
        node.Annotation(_names.BackendPublicIPv6));

    public Lease ToLease(NodeInfo node, bool enableIPv4, bool enableIPv6, DateTimeOffset expiration)
    {
        (Ip4Net? cidr4, Ip6Net? cidr6) = PodCidrs(node);
        IPAddress publicIP = IPAddress.Any;
        Ip4Net? subnet = null;
        Ip6Net? subnet6 = null;
        IPAddress? publicIPv6 = null;
        string? data = null;
        string? data6 = null;
        if (enableIPv4)
        {
            publicIP = ParseAddress(node, _names.BackendPublicIP, v6: false);
            subnet = cidr4 ?? throw new FormatException($"node \"{node.Name}\" has no IPv4 pod CIDR (podCIDR \"{node.PodCidr}\")");
            data = BackendData(node, _names.BackendData);
        }

        if (enableIPv6)
        {
            publicIPv6 = ParseAddress(node, _names.BackendPublicIPv6, v6: true);
            subnet6 = cidr6 ?? throw new FormatException($"node \"{node.Name}\" has no IPv6 pod CIDR (podCIDRs [{string.Join(' ', node.PodCidrs)}])");
            data6 = BackendData(node, _names.BackendV6Data);
        }

        string? backendType = node.Annotation(_names.BackendType);
        var attrs = new LeaseAttrs(publicIP, publicIPv6, string.IsNullOrEmpty(backendType) ? null : backendType, data, data6);
        return new Lease(subnet, subnet6, attrs, expiration);
    }

    /// <summary>spec.podCIDRs (one per family, at most two), else spec.podCIDR; canonical, as Go's ParseCIDR returns them.</summary>
    public static (Ip4Net? V4, Ip6Net? V6) PodCidrs(NodeInfo node)
    {
        IReadOnlyList<string> cidrs = node.PodCidrs.Count > 0 ? node.PodCidrs : [node.PodCidr];
        if (cidrs.Count > 2)
        {
            throw new FormatException($"node \"{node.Name}\" pod cidrs should be IPv4/IPv6 only or dualstack, not [{string.Join(' ', cidrs)}]");
        }

        Ip4Net? v4 = null;
        Ip6Net? v6 = null;
        foreach (string cidr in cidrs)
        {
            if (Ip4Net.TryParse(cidr, out Ip4Net net4))
            {
                v4 = net4.Canonical;
            }
            else if (Ip6Net.TryParse(cidr, out Ip6Net net6))
            {
                v6 = net6.Canonical;
            }
            else
            {
                throw new FormatException($"node \"{node.Name}\" has an invalid pod CIDR \"{cidr}\"");
            }
        }

        return (v4, v6);
    }

    /// <summary>
    /// An annotation's backend data, checked to be JSON (and, where it names a VtepMAC, a MAC address);
    /// "null" and absent read as no data.
    /// </summary>
    public static string? ValidateBackendData(string nodeName, string annotation, string? value)
    {
        if (string.IsNullOrEmpty(value))
        {
            return null;
        }

        try
        {
            using JsonDocument document = JsonDocument.Parse(value);
            JsonElement root = document.RootElement;
            if (root.ValueKind == JsonValueKind.Null)
            {
                return null;
            }

            if (root.ValueKind == JsonValueKind.Object && root.TryGetProperty("VtepMAC", out JsonElement mac)
                && (mac.ValueKind != JsonValueKind.String || !MacPattern().IsMatch(mac.GetString()!)))
            {
                throw new FormatException($"node \"{nodeName}\" annotation {annotation} has an invalid VtepMAC {mac.GetRawText()}");
            }
        }
        catch (JsonException ex)
        {
            throw new FormatException($"node \"{nodeName}\" annotation {annotation} is not valid JSON: {value}", ex);
        }

        return value;
    }

    private static string? BackendData(NodeInfo node, string annotation) =>
        ValidateBackendData(node.Name, annotation, node.Annotation(annotation));

    private static IPAddress ParseAddress(NodeInfo node, string annotation, bool v6)
    {
        string? text = node.Annotation(annotation);
        if (text is not null && !v6 && Ip4.TryParse(text, out uint address))
        {
            return Ip4.ToIPAddress(address);
        }

        if (text is not null && v6 && Ip6.TryParse(text, out UInt128 address6))
        {
            return Ip6.ToIPAddress(address6);
        }

        throw new FormatException($"node \"{node.Name}\" annotation {annotation} is not an {(v6 ? "IPv6" : "IPv4")} address: \"{text}\"");
    }

    // Go's net.ParseMAC, 6-octet forms: 00:00:5e:00:53:01, 00-00-5e-00-53-01, 0000.5e00.5301.
    [GeneratedRegex("^(?:[0-9A-Fa-f]{2}(?::[0-9A-Fa-f]{2}){5}|[0-9A-Fa-f]{2}(?:-[0-9A-Fa-f]{2}){5}|[0-9A-Fa-f]{4}\\.[0-9A-Fa-f]{4}\\.[0-9A-Fa-f]{4})$")]
    private static partial Regex MacPattern();
}

/// <summary>The node fields a lease is made of, compared to drop updates that change nothing flannel uses.</summary>
internal readonly record struct LeaseFields(
    bool Managed,
    string PodCidr,
    string PodCidrs,
    string? BackendType,
    string? BackendData,
    string? BackendV6Data,
    string? PublicIP,
    string? PublicIPv6);
