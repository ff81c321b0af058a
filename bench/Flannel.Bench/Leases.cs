using System.Globalization;

namespace Flannel.Bench;

/// <summary>
/// Remote leases in upstream's etcd format: subnet i is 198.18.0.0/15's i-th /29, PublicIP cycles through
/// 192.0.2.10-249 (the FDB is per VtepMAC, which is unique per lease), VtepMAC 0e:00:00 + i.
/// </summary>
internal static class Leases
{
    public const string Network = "198.18.0.0/15";
    public const string Prefix = "/coreos.com/network/subnets/";

    public static string NetConfig(string backend) =>
        "{\"Network\":\"" + Network + "\",\"SubnetLen\":29,\"Backend\":{\"Type\":\"" + backend + "\"}}";

    public static string Subnet(int i)
    {
        uint address = (198u << 24) | (18u << 16) | ((uint)i * 8);
        return string.Create(CultureInfo.InvariantCulture, $"{address >> 24}.{(address >> 16) & 255}.{(address >> 8) & 255}.{address & 255}");
    }

    public static string PublicIp(int i) => "192.0.2." + (10 + (i % 240)).ToString(CultureInfo.InvariantCulture);

    public static string Mac(int i) => string.Create(CultureInfo.InvariantCulture, $"0e:00:00:{(i >> 16) & 255:x2}:{(i >> 8) & 255:x2}:{i & 255:x2}");

    public static string Key(int i) => Prefix + Subnet(i) + "-29";

    public static string Value(string backend, int i) => backend == "vxlan"
        ? $$$"""{"PublicIP":"{{{PublicIp(i)}}}","PublicIPv6":null,"BackendType":"vxlan","BackendData":{"VNI":1,"VtepMAC":"{{{Mac(i)}}}"}}"""
        : $$"""{"PublicIP":"{{PublicIp(i)}}","PublicIPv6":null,"BackendType":"host-gw"}""";

    public static List<(string Key, string Value)> Range(string backend, int from, int count) =>
        Enumerable.Range(from, count).Select(i => (Key(i), Value(backend, i))).ToList();
}
