using System.ComponentModel;
using System.Runtime.InteropServices;
using Flannel.Linux.Tun;

namespace Flannel.Linux.Udp;

/// <summary>
/// An eventfd that wakes every thread blocked in <see cref="WaitReadable"/> once set, so I/O threads can sleep in
/// poll on their descriptor and still stop promptly.
/// </summary>
public sealed class StopEvent : IDisposable
{
    private readonly FileDescriptorHandle _event;
    private volatile bool _isSet;

    public StopEvent()
    {
        int fd = SocketInterop.EventFd(0, SocketInterop.SockCloexec | SocketInterop.SockNonblock);
        if (fd < 0)
        {
            throw new Win32Exception(Marshal.GetLastPInvokeError(), "eventfd failed");
        }

        _event = new FileDescriptorHandle(fd);
    }

    public bool IsSet => _isSet;

    public void Set()
    {
        _isSet = true;

        // The counter stays non-zero (nobody reads it), so every current and future poll sees it readable.
        ulong one = 1;
        SocketInterop.Write(_event, ref one, sizeof(ulong));
    }

    /// <summary>Blocks until <paramref name="fd"/> is readable (true) or the event is set (false).</summary>
    public bool WaitReadable(FileDescriptorHandle fd)
    {
        ArgumentNullException.ThrowIfNull(fd);
        Span<SocketInterop.PollFd> fds = stackalloc SocketInterop.PollFd[2];
        while (!_isSet)
        {
            fds[0] = new SocketInterop.PollFd { Fd = fd.Fd, Events = SocketInterop.PollIn };
            fds[1] = new SocketInterop.PollFd { Fd = _event.Fd, Events = SocketInterop.PollIn };
            int r = SocketInterop.Poll(fds, 2, -1);
            if (r < 0)
            {
                int errno = Marshal.GetLastPInvokeError();
                if (errno == Errno.EIntr)
                {
                    continue;
                }

                throw new Win32Exception(errno, "poll failed");
            }

            if (fds[1].ReturnedEvents != 0)
            {
                return false;
            }

            if (fds[0].ReturnedEvents != 0)
            {
                return true;
            }
        }

        return false;
    }

    public void Dispose() => _event.Dispose();
}
