using Flannel.Linux.Netlink;

namespace Flannel.Linux.Tests.Netlink;

public sealed class DumpCollectionTests
{
    private static byte[] Bytes(params string[] parts) => Convert.FromHexString(string.Concat(parts).Replace(" ", "", StringComparison.Ordinal));

    // RTM_NEWLINK for index 4 named "x", with the given flags, sequence 9 and port 77.
    private static string Link(string flags, string sequence = "09000000", string port = "4d000000") =>
        $"28000000 1000 {flags} {sequence} {port} 00 00 0000 04000000 00000000 00000000 0600 0300 7800 0000";

    [Fact]
    public void CollectDump_InterruptedMultipartThenDone_MarksInterruptedAndKeepsOnlyOurMessages()
    {
        byte[] datagram = Bytes(
            Link("0200"),                                   // NLM_F_MULTI
            Link("1200"),                                   // NLM_F_MULTI | NLM_F_DUMP_INTR
            Link("0200", sequence: "08000000"),             // a stale sequence: skipped
            Link("0200", port: "4e000000"),                 // another port: skipped
            "14000000 0300 0200 09000000 4d000000 00000000"); // NLMSG_DONE, status 0
        var items = new List<Link>();
        var state = new NetlinkSocket.DumpState();

        NetlinkSocket.CollectDump(datagram, 77, 9, LinkCodec.Parser, items.Add, ref state);

        Assert.True(state.Done);
        Assert.True(state.Interrupted);
        Assert.Equal(0, state.Error.Errno);
        Assert.Equal(2, items.Count);
        Assert.All(items, l => Assert.Equal("x", l.Name));
    }

    [Fact]
    public void CollectDump_DoneWithNegativeStatus_ReportsError()
    {
        byte[] datagram = Bytes("14000000 0300 0200 09000000 4d000000 f0ffffff"); // -EBUSY
        var state = new NetlinkSocket.DumpState();

        NetlinkSocket.CollectDump(datagram, 77, 9, LinkCodec.Parser, _ => { }, ref state);

        Assert.True(state.Done);
        Assert.Equal(Flannel.Linux.Interop.Errno.EBUSY, state.Error.Errno);
    }

    [Fact]
    public void CollectDump_NoDoneYet_NotDone()
    {
        var state = new NetlinkSocket.DumpState();
        var items = new List<Link>();

        NetlinkSocket.CollectDump(Bytes(Link("0200")), 77, 9, LinkCodec.Parser, items.Add, ref state);

        Assert.False(state.Done);
        Assert.Single(items);
    }
}
