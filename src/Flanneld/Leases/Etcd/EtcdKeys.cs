using Flannel.Core.Net;
using Google.Protobuf;

namespace Flanneld.Leases.Etcd;

/// <summary>Upstream's key layout: <c>&lt;prefix&gt;/config</c> and <c>&lt;prefix&gt;/subnets/&lt;subnet key&gt;</c>.</summary>
internal sealed class EtcdKeys
{
    public EtcdKeys(string prefix)
    {
        string trimmed = prefix.TrimEnd('/');
        Config = trimmed + "/config";
        Subnets = trimmed + "/subnets/";
        SubnetsStart = ByteString.CopyFromUtf8(Subnets);
        SubnetsEnd = PrefixEnd(Subnets);
    }

    public string Config { get; }

    /// <summary>The lease directory, with its trailing slash.</summary>
    public string Subnets { get; }

    public ByteString SubnetsStart { get; }

    public ByteString SubnetsEnd { get; }

    public string Lease(Ip4Net? subnet, Ip6Net? ipv6Subnet) => Subnets + Flannel.Core.Leases.SubnetKey.Format(subnet, ipv6Subnet);

    /// <summary>The subnet key part of a lease key, or null for a key that is not directly under the lease directory.</summary>
    public string? SubnetPart(string key) =>
        key.StartsWith(Subnets, StringComparison.Ordinal) && key.IndexOf('/', Subnets.Length) < 0 ? key[Subnets.Length..] : null;

    /// <summary>The end of etcd's range for every key starting with <paramref name="prefix"/>: the prefix with its last byte incremented.</summary>
    public static ByteString PrefixEnd(string prefix)
    {
        byte[] bytes = System.Text.Encoding.UTF8.GetBytes(prefix);
        for (int i = bytes.Length - 1; i >= 0; i--)
        {
            if (bytes[i] < 0xff)
            {
                bytes[i]++;
                return ByteString.CopyFrom(bytes.AsSpan(0, i + 1));
            }
        }

        // All 0xff: the range runs to the end of the keyspace.
        return ByteString.CopyFrom(0);
    }
}
