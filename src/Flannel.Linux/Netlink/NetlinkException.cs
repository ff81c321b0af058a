using Flannel.Linux.Interop;

namespace Flannel.Linux.Netlink;

/// <summary>
/// The kernel refused a netlink request. The message names the operation, the object and the errno, e.g.
/// "replace route 198.18.5.0/24 via 198.18.5.0 dev flannel.1 onlink: ENETUNREACH (Nexthop has invalid gateway)".
/// </summary>
public sealed class NetlinkException : IOException
{
    public NetlinkException(string operation, string target, int errno, string? kernelMessage)
        : base(Format(operation, target, errno, kernelMessage))
    {
        Operation = operation;
        Target = target;
        Errno = errno;
        KernelMessage = kernelMessage;
    }

    public NetlinkException()
        : this("netlink request", "", 0, null)
    {
    }

    public NetlinkException(string message)
        : base(message)
    {
        Operation = "netlink request";
        Target = "";
    }

    public NetlinkException(string message, Exception innerException)
        : base(message, innerException)
    {
        Operation = "netlink request";
        Target = "";
    }

    /// <summary>What was asked, e.g. "create link", "replace route".</summary>
    public string Operation { get; }

    /// <summary>The object it was asked of, e.g. "vxlan flannel.1".</summary>
    public string Target { get; }

    /// <summary>The positive errno, e.g. <see cref="Interop.Errno.EEXIST"/>.</summary>
    public int Errno { get; }

    public string ErrnoName => Interop.Errno.Name(Errno);

    /// <summary>The kernel's extended-ack text (NLMSGERR_ATTR_MSG), when it gave one.</summary>
    public string? KernelMessage { get; }

    public bool IsAlreadyExists => Errno == Interop.Errno.EEXIST;

    /// <summary>The object (or the device it is on) does not exist: ENOENT, ESRCH, ENODEV or EADDRNOTAVAIL.</summary>
    public bool IsNotFound => Errno is Interop.Errno.ENOENT or Interop.Errno.ESRCH or Interop.Errno.ENODEV or Interop.Errno.EADDRNOTAVAIL;

    private static string Format(string operation, string target, int errno, string? kernelMessage)
    {
        string what = target.Length == 0 ? operation : operation + " " + target;
        string detail = kernelMessage is { Length: > 0 } ? $" ({kernelMessage})" : "";
        return $"{what}: {Interop.Errno.Name(errno)}{detail}";
    }
}

/// <summary>The kernel sent something we cannot parse or did not ask for: a bug on one side, not a refused request.</summary>
public sealed class NetlinkProtocolException : IOException
{
    public NetlinkProtocolException()
    {
    }

    public NetlinkProtocolException(string message)
        : base(message)
    {
    }

    public NetlinkProtocolException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
