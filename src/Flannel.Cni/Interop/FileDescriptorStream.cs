using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Flannel.Cni.Interop;

/// <summary>
/// A stream straight over a file descriptor with read(2) and write(2): no buffering, no seeking, no offsets of its
/// own (a shared file offset stays shared, as with any Unix tool). Console's streams would set up terminal handling
/// (a thread and signal handlers) on their first write; FileStream would pwrite at positions it tracks itself.
/// </summary>
internal sealed class FileDescriptorStream : Stream
{
    private readonly SafeFileHandle _handle;
    private readonly FileAccess _access;
    private readonly bool _discardOnBrokenPipe;

    /// <param name="handle">The descriptor.</param>
    /// <param name="access">Read or Write.</param>
    /// <param name="discardOnBrokenPipe">Drop writes once the reader has gone (EPIPE) instead of throwing, as
    /// Console's streams do: a runtime that stopped reading our answer is no failure of ours.</param>
    public FileDescriptorStream(SafeFileHandle handle, FileAccess access, bool discardOnBrokenPipe = false)
    {
        ArgumentNullException.ThrowIfNull(handle);
        _handle = handle;
        _access = access;
        _discardOnBrokenPipe = discardOnBrokenPipe;
    }

    public override bool CanRead => _access.HasFlag(FileAccess.Read) && !_handle.IsClosed;

    public override bool CanWrite => _access.HasFlag(FileAccess.Write) && !_handle.IsClosed;

    public override bool CanSeek => false;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    /// <summary>Reads until end of file (the writer closed its end).</summary>
    public byte[] ReadToEnd()
    {
        byte[] buffer = new byte[4096];
        int length = 0;
        while (true)
        {
            if (length == buffer.Length)
            {
                Array.Resize(ref buffer, buffer.Length * 2);
            }

            int read = Read(buffer.AsSpan(length));
            if (read == 0)
            {
                return buffer.AsSpan(0, length).ToArray();
            }

            length += read;
        }
    }

    public override int Read(Span<byte> buffer)
    {
        while (true)
        {
            nint read = Libc.Read(_handle, buffer, buffer.Length);
            if (read >= 0)
            {
                return (int)read;
            }

            int errno = Marshal.GetLastPInvokeError();
            if (errno != Libc.EINTR)
            {
                throw Libc.Failure("read", errno);
            }
        }
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    /// <summary>Writes all of <paramref name="buffer"/>; an error's errno is the IOException's HResult.</summary>
    public override void Write(ReadOnlySpan<byte> buffer)
    {
        while (!buffer.IsEmpty)
        {
            nint written = Libc.Write(_handle, buffer, buffer.Length);
            if (written >= 0)
            {
                buffer = buffer[(int)written..];
                continue;
            }

            int errno = Marshal.GetLastPInvokeError();
            if (errno == Libc.EPIPE && _discardOnBrokenPipe)
            {
                return;
            }

            if (errno != Libc.EINTR)
            {
                throw Libc.Failure("write", errno);
            }
        }
    }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _handle.Dispose();
        }

        base.Dispose(disposing);
    }
}
