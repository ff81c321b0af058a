using Flannel.Linux.Netlink;

namespace Flannel.Linux.Tests.Netlink;

public sealed class NetlinkSocketTests
{
    /// <summary>A request whose caller gave up (cancelled) leaves its ack queued; the next exchange must skip it.</summary>
    [Fact]
    public async Task ExecuteAsync_StaleAckOfAbandonedRequestQueued_IsIgnored()
    {
        using var ns = new TestNamespace("stale");
        using NetlinkSocket socket = ns.Namespace.Run(() => NetlinkSocket.Open());
        CancellationToken ct = TestNamespace.Timeout;
        using var abandoned = new NetlinkBuffer();
        var writer = new NetlinkWriter(abandoned);
        uint staleSequence = socket.NextSequence();
        LinkCodec.WriteDelete(ref writer, staleSequence, 4242);     // will fail with ENODEV
        await socket.SendAsync(abandoned.Memory, ct);

        using var batch = new NetlinkBatch();
        batch.CreateLink(new BridgeLinkSpec("br-stale"));
        uint first = socket.NextSequence(batch.Count);
        batch.Number(first);
        NetlinkAck[] acks = await socket.ExecuteAsync(batch.Buffer, batch.Offsets, first, ct);

        Assert.Equal(0, Assert.Single(acks).Errno);
        Assert.NotNull(await ns.Netlink.FindLinkAsync("br-stale", ct));
    }

    [Fact]
    public void Open_TwoSockets_GetDistinctPortIds()
    {
        using NetlinkSocket a = NetlinkSocket.Open();
        using NetlinkSocket b = NetlinkSocket.Open();

        Assert.NotEqual(0u, a.PortId);
        Assert.NotEqual(a.PortId, b.PortId);
    }
}
