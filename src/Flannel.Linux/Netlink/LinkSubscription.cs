using System.Runtime.CompilerServices;
using Flannel.Linux.Namespaces;

namespace Flannel.Linux.Netlink;

/// <summary>
/// A socket subscribed to RTNLGRP_LINK: every link creation, change and deletion in one namespace, from the
/// moment <see cref="Open"/> returns. If the kernel drops notifications because we fell behind, reading ends
/// with a <see cref="System.Net.Sockets.SocketException"/> (ENOBUFS): re-list the links and subscribe again.
/// </summary>
public sealed class LinkSubscription : IDisposable
{
    private const uint RtmgrpLink = 1u << ((int)Nl.RTNLGRP_LINK - 1);
    private readonly NetlinkSocket _socket;

    private LinkSubscription(NetlinkSocket socket) => _socket = socket;

    public static LinkSubscription Open(NetworkNamespace? networkNamespace = null) =>
        new(networkNamespace is null ? NetlinkSocket.Open(RtmgrpLink) : networkNamespace.Run(() => NetlinkSocket.Open(RtmgrpLink)));

    /// <summary>Events in kernel order until <paramref name="cancellationToken"/> fires. One reader at a time.</summary>
    public async IAsyncEnumerable<LinkEvent> ReadAllAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var events = new List<LinkEvent>();
        while (true)
        {
            int length = await _socket.ReceiveAsync(cancellationToken).ConfigureAwait(false);
            Parse(_socket.Received(length), events);
            foreach (LinkEvent e in events)
            {
                yield return e;
            }

            events.Clear();
        }
    }

    private static void Parse(ReadOnlySpan<byte> datagram, List<LinkEvent> events)
    {
        var reader = new NetlinkMessageReader(datagram);
        while (reader.TryRead(out NetlinkMessage message))
        {
            if (LinkCodec.TryParse(message, out Link? link))
            {
                events.Add(new LinkEvent(message.Type == Nl.RTM_DELLINK ? LinkEventKind.Deleted : LinkEventKind.NewOrChanged, link));
            }
        }
    }

    public void Dispose() => _socket.Dispose();
}
