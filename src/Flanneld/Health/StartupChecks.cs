using System.Globalization;

namespace Flanneld.Health;

/// <summary>
/// Checks flanneld makes before it programs anything, as pure functions that return a message saying what is wrong
/// and how to fix it, or null when all is well. The caller logs the message and exits.
/// </summary>
public static class StartupChecks
{
    public const string BridgeNfCallIptables = "/proc/sys/net/bridge/bridge-nf-call-iptables";
    public const string BridgeNfCallIp6tables = "/proc/sys/net/bridge/bridge-nf-call-ip6tables";

    /// <summary>The smallest MTU IPv4 guarantees to work end to end (RFC 791: every host reassembles 576 bytes).</summary>
    public const int MinimumIPv4Mtu = 576;

    /// <summary>IPv6 requires every link to carry 1280 bytes (RFC 8200).</summary>
    public const int MinimumIPv6Mtu = 1280;

    /// <summary>
    /// iptables mode needs br_netfilter so that bridged pod traffic passes the iptables rules (upstream exits
    /// without it). nftables mode does not check, as upstream.
    /// </summary>
    public static string? CheckBrNetfilter(bool enableNFTables, bool enableIPv4, bool enableIPv6, Func<string, bool> fileExists)
    {
        ArgumentNullException.ThrowIfNull(fileExists);
        if (enableNFTables)
        {
            return null;
        }

        foreach ((bool enabled, string path) in new[] { (enableIPv4, BridgeNfCallIptables), (enableIPv6, BridgeNfCallIp6tables) })
        {
            if (enabled && !fileExists(path))
            {
                return $"br_netfilter is not loaded: {path} does not exist. Load it with `modprobe br_netfilter` "
                    + "(and list it in /etc/modules-load.d/ to survive a reboot), or set \"EnableNFTables\": true in net-conf.json.";
            }
        }

        return null;
    }

    /// <summary>
    /// The MTU the backend leaves for pods (<paramref name="podMtu"/>, from <paramref name="interfaceMtu"/> minus its
    /// encapsulation) must still carry IPv4 (576) and, with IPv6, 1280 bytes.
    /// </summary>
    public static string? CheckMtu(string backendType, string interfaceName, int interfaceMtu, int podMtu, bool enableIPv6)
    {
        int minimum = enableIPv6 ? MinimumIPv6Mtu : MinimumIPv4Mtu;
        if (podMtu >= minimum)
        {
            return null;
        }

        int overhead = interfaceMtu - podMtu;
        return string.Create(CultureInfo.InvariantCulture,
            $"MTU too small for backend {backendType}: interface {interfaceName} has MTU {interfaceMtu}, the backend needs {overhead} bytes for its encapsulation, "
            + $"leaving {podMtu} for pods, below the {minimum} that {(enableIPv6 ? "IPv6" : "IPv4")} needs. "
            + $"Raise the MTU of {interfaceName} to at least {minimum + overhead}, choose another interface (--iface), or use a backend with less overhead (host-gw adds none).");
    }
}
