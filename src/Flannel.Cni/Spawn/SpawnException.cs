using System.Runtime.InteropServices;

namespace Flannel.Cni.Spawn;

/// <summary>A program that could not be started: posix_spawn's error number (ENOENT, EACCES, ENOEXEC, ...).</summary>
internal sealed class SpawnException : IOException
{
    public SpawnException(string path, int errno)
        : base($"{path}: {Marshal.GetPInvokeErrorMessage(errno)}")
    {
        Path = path;
        Errno = errno;
        Reason = Marshal.GetPInvokeErrorMessage(errno);
    }

    public SpawnException()
        : this("", 0)
    {
    }

    public SpawnException(string message)
        : base(message)
    {
        Path = "";
        Reason = message;
    }

    public SpawnException(string message, Exception innerException)
        : base(message, innerException)
    {
        Path = "";
        Reason = message;
    }

    public string Path { get; }

    /// <summary>The error number, 0 when not from posix_spawn.</summary>
    public int Errno { get; }

    /// <summary>The error's text as strerror gives it, e.g. "No such file or directory".</summary>
    public string Reason { get; }
}
