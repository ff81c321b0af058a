using System.Runtime.InteropServices;
using Flannel.Cni.Interop;
using Microsoft.Win32.SafeHandles;

namespace Flannel.Cni.Tests.Interop;

public sealed class FileDescriptorStreamTests
{
    private static (FileDescriptorStream Read, FileDescriptorStream Write) Pipe(bool discardOnBrokenPipe = false)
    {
        int[] fds = new int[2];
        Assert.Equal(0, Libc.Pipe2(fds, Libc.O_CLOEXEC));
        return (new FileDescriptorStream(new SafeFileHandle(fds[0], ownsHandle: true), FileAccess.Read),
            new FileDescriptorStream(new SafeFileHandle(fds[1], ownsHandle: true), FileAccess.Write, discardOnBrokenPipe));
    }

    [Fact]
    public void ReadToEnd_WriterWroteAndClosed_AllBytesAcrossBufferGrowth()
    {
        (FileDescriptorStream read, FileDescriptorStream write) = Pipe();
        using (read)
        {
            byte[] data = new byte[10_000];
            Random.Shared.NextBytes(data);
            using (write)
            {
                write.Write(data);
            }

            Assert.Equal(data, read.ReadToEnd());
        }
    }

    [Fact]
    public void Write_ReaderClosed_IOExceptionWithEpipe()
    {
        (FileDescriptorStream read, FileDescriptorStream write) = Pipe();
        read.Dispose();
        using (write)
        {
            IOException e = Assert.Throws<IOException>(() => write.Write([1, 2, 3]));
            Assert.Equal(Libc.EPIPE, e.HResult);
            Assert.Equal($"write failed: {Marshal.GetPInvokeErrorMessage(Libc.EPIPE)}", e.Message);
        }
    }

    [Fact]
    public void Write_ReaderClosedAndDiscardOnBrokenPipe_Dropped()
    {
        (FileDescriptorStream read, FileDescriptorStream write) = Pipe(discardOnBrokenPipe: true);
        read.Dispose();
        using (write)
        {
            write.Write([1, 2, 3]);
            write.Write([4]);
        }
    }

    [Fact]
    public void Capabilities_NoSeekingAndDirectionAsOpened()
    {
        (FileDescriptorStream read, FileDescriptorStream write) = Pipe();
        using (read)
        using (write)
        {
            Assert.True(read.CanRead);
            Assert.False(read.CanWrite);
            Assert.True(write.CanWrite);
            Assert.False(write.CanSeek);
            Assert.Throws<NotSupportedException>(() => write.Position);
        }
    }
}
