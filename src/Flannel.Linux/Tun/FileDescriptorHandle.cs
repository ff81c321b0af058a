using System.Runtime.InteropServices;

namespace Flannel.Linux.Tun;

/// <summary>An owned Linux file descriptor (TUN queue, socket, eventfd), closed exactly once.</summary>
public sealed class FileDescriptorHandle : SafeHandle
{
    public FileDescriptorHandle()
        : base(-1, ownsHandle: true)
    {
    }

    public FileDescriptorHandle(int fd)
        : base(-1, ownsHandle: true) => SetHandle(fd);

    public override bool IsInvalid => handle < 0;

    /// <summary>The descriptor number, for diagnostics and poll sets.</summary>
    public int Fd => (int)handle;

    protected override bool ReleaseHandle() => TunInterop.Close((int)handle) == 0;
}
