using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Flannel.Cni.Interop;

/// <summary>
/// The libc calls the plugin makes itself: read/write on file descriptors, pipes, posix_spawn with its attribute and
/// file-action objects, and waitpid. glibc's posix_spawn is a vfork-style clone and exec that reports exec's errno.
/// Linked directly in the AOT build (DirectPInvoke), so nothing is looked up at run time.
/// </summary>
internal static partial class Libc
{
    public const int EINTR = 4;
    public const int EPIPE = 32;
    public const int O_CLOEXEC = 0x80000;
    public const int SIGPIPE = 13;
    public const short POSIX_SPAWN_SETSIGDEF = 0x04;
    public const short POSIX_SPAWN_SETSIGMASK = 0x08;

    // posix_spawn_file_actions_t (80 bytes), posix_spawnattr_t (336) and sigset_t (128) are opaque to us; libc
    // initialises them in buffers of this size, comfortably larger than any glibc or musl layout.
    public const int OpaqueSize = 1024;

    [LibraryImport("libc", EntryPoint = "read", SetLastError = true)]
    public static partial nint Read(SafeFileHandle fd, Span<byte> buffer, nint count);

    [LibraryImport("libc", EntryPoint = "write", SetLastError = true)]
    public static partial nint Write(SafeFileHandle fd, ReadOnlySpan<byte> buffer, nint count);

    [LibraryImport("libc", EntryPoint = "pipe2", SetLastError = true)]
    public static partial int Pipe2(Span<int> fds, int flags);

    [LibraryImport("libc", EntryPoint = "waitpid", SetLastError = true)]
    public static partial int WaitPid(int pid, out int status, int options);

    [LibraryImport("libc", EntryPoint = "sigemptyset", SetLastError = true)]
    public static partial int SigEmptySet(Span<byte> set);

    [LibraryImport("libc", EntryPoint = "sigaddset", SetLastError = true)]
    public static partial int SigAddSet(Span<byte> set, int signal);

    [LibraryImport("libc", EntryPoint = "posix_spawn_file_actions_init")]
    public static partial int FileActionsInit(Span<byte> actions);

    [LibraryImport("libc", EntryPoint = "posix_spawn_file_actions_adddup2")]
    public static partial int FileActionsAddDup2(Span<byte> actions, int fd, int newFd);

    [LibraryImport("libc", EntryPoint = "posix_spawn_file_actions_destroy")]
    public static partial int FileActionsDestroy(Span<byte> actions);

    [LibraryImport("libc", EntryPoint = "posix_spawnattr_init")]
    public static partial int AttrInit(Span<byte> attributes);

    [LibraryImport("libc", EntryPoint = "posix_spawnattr_setflags")]
    public static partial int AttrSetFlags(Span<byte> attributes, short flags);

    [LibraryImport("libc", EntryPoint = "posix_spawnattr_setsigmask")]
    public static partial int AttrSetSigMask(Span<byte> attributes, ReadOnlySpan<byte> set);

    [LibraryImport("libc", EntryPoint = "posix_spawnattr_setsigdefault")]
    public static partial int AttrSetSigDefault(Span<byte> attributes, ReadOnlySpan<byte> set);

    [LibraryImport("libc", EntryPoint = "posix_spawnattr_destroy")]
    public static partial int AttrDestroy(Span<byte> attributes);

    /// <summary>Returns 0 or the error number itself (posix_spawn does not set errno).</summary>
    [LibraryImport("libc", EntryPoint = "posix_spawn")]
    public static unsafe partial int PosixSpawn(out int pid, byte* path, ReadOnlySpan<byte> fileActions, ReadOnlySpan<byte> attributes, byte** argv, byte** envp);

    /// <summary>An IOException for a failed call, its HResult the errno (so callers can tell EPIPE from the rest).</summary>
    public static IOException Failure(string what, int errno) =>
        new($"{what} failed: {Marshal.GetPInvokeErrorMessage(errno)}") { HResult = errno };
}
