using Flannel.Linux.Packets;

namespace Flannel.Linux.Tests.Packets;

public class VirtioNetHeaderTests
{
    [Fact]
    public void Write_ThenRead_RoundTripsLittleEndianLayout()
    {
        var header = new VirtioNetHeader(VirtioNetHeader.FlagNeedsChecksum, VirtioNetHeader.GsoTcpV4 | VirtioNetHeader.GsoEcn, 52, 1420, 20, 16);
        var bytes = new byte[VirtioNetHeader.Size];
        header.Write(bytes);
        Assert.Equal(new byte[] { 1, 0x81, 52, 0, 0x8c, 0x05, 20, 0, 16, 0 }, bytes);
        VirtioNetHeader read = VirtioNetHeader.Read(bytes);
        Assert.Equal(header, read);
        Assert.Equal(VirtioNetHeader.GsoTcpV4, read.GsoKind);
        Assert.True(read.NeedsChecksum);
    }
}
