using System.Globalization;

namespace Flannel.Linux.Namespaces;

/// <summary>
/// Reads and writes /proc/sys keys. /proc/sys/net is per network namespace (that of the thread that opens the
/// file), so the <see cref="NetworkNamespace"/> overloads run the file access inside the namespace.
/// </summary>
public static class Sysctl
{
    /// <summary>E.g. "net.ipv6.conf.flannel/1.accept_ra": dots separate levels; a device name's own dots are written as '/'.</summary>
    public static string PathOf(string key)
    {
        ArgumentException.ThrowIfNullOrEmpty(key);
        if (key.Contains("..", StringComparison.Ordinal) || key.StartsWith('.'))
        {
            throw new ArgumentException($"'{key}' is not a sysctl key.", nameof(key));
        }

        return "/proc/sys/" + string.Join('/', key.Split('.').Select(part => part.Replace('/', '.')));
    }

    public static void Write(string key, string value) => File.WriteAllText(PathOf(key), value + "\n");

    public static string Read(string key) => File.ReadAllText(PathOf(key)).TrimEnd('\n');

    public static void Write(NetworkNamespace networkNamespace, string key, string value)
    {
        ArgumentNullException.ThrowIfNull(networkNamespace);
        networkNamespace.Run(() =>
        {
            Write(key, value);
            return 0;
        });
    }

    public static string Read(NetworkNamespace networkNamespace, string key)
    {
        ArgumentNullException.ThrowIfNull(networkNamespace);
        return networkNamespace.Run(() => Read(key));
    }

    /// <summary>The key for an interface's IPv6 setting, e.g. ("flannel.1", "accept_ra") -> net.ipv6.conf.flannel/1.accept_ra.</summary>
    public static string IPv6InterfaceKey(string interfaceName, string setting)
    {
        ArgumentException.ThrowIfNullOrEmpty(interfaceName);
        return string.Create(CultureInfo.InvariantCulture, $"net.ipv6.conf.{interfaceName.Replace('.', '/')}.{setting}");
    }
}
