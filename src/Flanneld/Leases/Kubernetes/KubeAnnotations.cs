using System.Text.RegularExpressions;
using Flannel.Core.Config;

namespace Flanneld.Leases.Kubernetes;

/// <summary>
/// The node annotation names under <c>--kube-annotation-prefix</c> (default <c>flannel.alpha.coreos.com/</c>), as
/// upstream's <c>pkg/subnet/kube/annotations.go</c> builds them.
/// </summary>
public sealed partial class KubeAnnotations
{
    public const string DefaultPrefix = "flannel.alpha.coreos.com";

    private KubeAnnotations(string prefix)
    {
        Prefix = prefix;
        SubnetKubeManaged = prefix + "kube-subnet-manager";
        BackendType = prefix + "backend-type";
        BackendData = prefix + "backend-data";
        BackendV6Data = prefix + "backend-v6-data";
        BackendPublicIP = prefix + "public-ip";
        BackendPublicIPv6 = prefix + "public-ipv6";
        BackendPublicIPOverwrite = prefix + "public-ip-overwrite";
        BackendPublicIPv6Overwrite = prefix + "public-ipv6-overwrite";
        NodePublicIP = prefix + "node-public-ip";
        NodePublicIPv6 = prefix + "node-public-ipv6";
    }

    /// <summary>The prefix with its trailing slash, e.g. <c>flannel.alpha.coreos.com/</c>.</summary>
    public string Prefix { get; }

    public string SubnetKubeManaged { get; }

    public string BackendType { get; }

    public string BackendData { get; }

    public string BackendV6Data { get; }

    public string BackendPublicIP { get; }

    public string BackendPublicIPv6 { get; }

    public string BackendPublicIPOverwrite { get; }

    public string BackendPublicIPv6Overwrite { get; }

    public string NodePublicIP { get; }

    public string NodePublicIPv6 { get; }

    /// <summary>
    /// Validates the prefix as upstream does: at most one <c>/</c> (appended when missing), and the whole must read
    /// <c>&lt;fqdn&gt;/&lt;[a-z0-9_-]*&gt;</c>.
    /// </summary>
    public static KubeAnnotations Create(string prefix)
    {
        ArgumentNullException.ThrowIfNull(prefix);
        int slashes = prefix.Count(c => c == '/');
        if (slashes > 1)
        {
            throw new ConfigException("--kube-annotation-prefix", $"--kube-annotation-prefix={prefix}: a prefix may contain at most one '/'");
        }

        string full = slashes == 0 ? prefix + "/" : prefix;
        if (!PrefixPattern().IsMatch(full))
        {
            throw new ConfigException("--kube-annotation-prefix", $"--kube-annotation-prefix={prefix}: must be a domain name followed by '/' and [a-z0-9_-]*");
        }

        return new KubeAnnotations(full);
    }

    [GeneratedRegex(@"^(?:[a-z0-9](?:[-a-z0-9]*[a-z0-9])?\.)*[a-z0-9](?:[-a-z0-9]*[a-z0-9])?/[a-z0-9_-]*$")]
    private static partial Regex PrefixPattern();
}
