using System.Net.Sockets;
using Flannel.Linux.Netlink;

namespace Flannel.Linux.Interfaces;

/// <summary>
/// Puts exactly the wanted address on a flannel device, as upstream's EnsureV4AddressOnLink / EnsureV6AddressOnLink:
/// stale addresses from an earlier lease are removed, the wanted one added only if missing (so a restart with the
/// same lease changes nothing).
/// </summary>
public static class LinkAddressEnsurer
{
    /// <summary>Keeps <paramref name="address"/> and removes every other IPv4 address inside <paramref name="network"/>.</summary>
    public static async Task EnsureV4Async(Rtnetlink netlink, int linkIndex, IpPrefix address, IpPrefix network, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(netlink);
        bool present = false;
        foreach (InterfaceAddress existing in await netlink.ListAddressesAsync(AddressFamily.InterNetwork, linkIndex, cancellationToken).ConfigureAwait(false))
        {
            if (existing.Prefix == address)
            {
                present = true;
            }
            else if (network.Contains(existing.Prefix.Address))
            {
                await netlink.TryDeleteAddressAsync(linkIndex, existing.Prefix, cancellationToken).ConfigureAwait(false);
            }
        }

        if (!present)
        {
            await netlink.AddAddressAsync(linkIndex, address, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Keeps <paramref name="address"/> and link-local addresses; removes every other IPv6 address.</summary>
    public static async Task EnsureV6Async(Rtnetlink netlink, int linkIndex, IpPrefix address, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(netlink);
        bool present = false;
        foreach (InterfaceAddress existing in await netlink.ListAddressesAsync(AddressFamily.InterNetworkV6, linkIndex, cancellationToken).ConfigureAwait(false))
        {
            if (existing.Prefix == address)
            {
                present = true;
            }
            else if (!existing.Prefix.Address.IsIPv6LinkLocal)
            {
                await netlink.TryDeleteAddressAsync(linkIndex, existing.Prefix, cancellationToken).ConfigureAwait(false);
            }
        }

        if (!present)
        {
            await netlink.AddAddressAsync(linkIndex, address, cancellationToken).ConfigureAwait(false);
        }
    }
}
