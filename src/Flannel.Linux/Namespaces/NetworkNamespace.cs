using System.Runtime.ExceptionServices;
using System.Runtime.InteropServices;
using Flannel.Linux.Interop;
using Microsoft.Win32.SafeHandles;

namespace Flannel.Linux.Namespaces;

/// <summary>
/// An open network namespace (a /var/run/netns/NAME file, or any nsfs path). Sockets created by
/// <see cref="Run{T}"/> belong to it for life, which lets one process program several namespaces
/// without moving itself.
/// </summary>
public sealed class NetworkNamespace : IDisposable
{
    /// <summary>Where <c>ip netns</c> keeps named namespaces.</summary>
    public const string NamedDirectory = "/var/run/netns";

    private readonly SafeFileHandle _handle;

    private NetworkNamespace(string path, SafeFileHandle handle)
    {
        Path = path;
        _handle = handle;
    }

    public string Path { get; }

    /// <summary>The open namespace file, for IFLA_NET_NS_FD (moving links, veth peers).</summary>
    public SafeHandle Handle => _handle;

    public static NetworkNamespace Open(string name) => OpenPath(PathOf(name));

    public static NetworkNamespace OpenPath(string path) => new(path, Libc.OpenReadOnly(path));

    public static string PathOf(string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        if (name.Contains('/', StringComparison.Ordinal) || name is "." or "..")
        {
            throw new ArgumentException($"'{name}' is not a valid namespace name.", nameof(name));
        }

        return System.IO.Path.Combine(NamedDirectory, name);
    }

    /// <summary>
    /// Creates a named namespace as <c>ip netns add</c> does: a fresh namespace from unshare() on a throwaway
    /// thread, bind-mounted onto /var/run/netns/NAME so it outlives the thread.
    /// </summary>
    public static NetworkNamespace Create(string name)
    {
        string path = PathOf(name);
        Directory.CreateDirectory(NamedDirectory);
        int fd = Libc.Open(path, Libc.O_RDONLY | Libc.O_CREAT | Libc.O_EXCL | Libc.O_CLOEXEC, 0);
        if (fd < 0)
        {
            throw Libc.LastError($"create namespace file {path}");
        }

        Libc.Close(fd);
        try
        {
            OnDedicatedThread(() =>
            {
                if (Libc.Unshare(Libc.CLONE_NEWNET) != 0)
                {
                    throw Libc.LastError("unshare(CLONE_NEWNET)");
                }

                if (Libc.Mount("/proc/thread-self/ns/net", path, "none", Libc.MS_BIND, 0) != 0)
                {
                    throw Libc.LastError($"bind-mount namespace onto {path}");
                }

                return 0;
            });
        }
        catch
        {
            File.Delete(path);
            throw;
        }

        return Open(name);
    }

    /// <summary>Deletes a named namespace (<c>ip netns del</c>). Returns false if it did not exist.</summary>
    public static bool Delete(string name)
    {
        string path = PathOf(name);
        if (!File.Exists(path))
        {
            return false;
        }

        // MNT_DETACH: the namespace lives on while sockets or processes still hold it, as with ip netns del.
        if (Libc.Umount2(path, Libc.MNT_DETACH) != 0 && Marshal.GetLastPInvokeError() != Errno.EINVAL)
        {
            throw Libc.LastError($"umount {path}");
        }

        File.Delete(path);
        return true;
    }

    /// <summary>Runs <paramref name="action"/> on a dedicated thread switched into this namespace, then switches back.</summary>
    public T Run<T>(Func<T> action)
    {
        ArgumentNullException.ThrowIfNull(action);
        return OnDedicatedThread(() =>
        {
            using SafeFileHandle original = Libc.OpenReadOnly("/proc/thread-self/ns/net");
            if (Libc.SetNs(_handle, Libc.CLONE_NEWNET) != 0)
            {
                throw Libc.LastError($"setns({Path})");
            }

            try
            {
                return action();
            }
            finally
            {
                // The thread ends right after, so a failure to switch back cannot leak into other work.
                _ = Libc.SetNs(original, Libc.CLONE_NEWNET);
            }
        });
    }

    /// <summary>
    /// Namespace switches apply to the calling thread only; a thread of our own (never a pool thread) keeps them
    /// from leaking into unrelated work.
    /// </summary>
    private static T OnDedicatedThread<T>(Func<T> action)
    {
        T result = default!;
        ExceptionDispatchInfo? failure = null;
        var thread = new Thread(() =>
        {
            try
            {
                result = action();
            }
#pragma warning disable CA1031 // Rethrown on the calling thread.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                failure = ExceptionDispatchInfo.Capture(ex);
            }
        })
        {
            IsBackground = true,
            Name = "netns",
        };
        thread.Start();
        thread.Join();
        failure?.Throw();
        return result;
    }

    public void Dispose() => _handle.Dispose();
}
