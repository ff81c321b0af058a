namespace Flannel.Linux.Udp;

/// <summary>The errno values the data path reacts to (asm-generic/errno-base.h, errno.h).</summary>
public static class Errno
{
    public const int EIntr = 4;
    public const int EIo = 5;
    public const int EAgain = 11;
    public const int EInvalid = 22;
    public const int EMsgSize = 90;
    public const int EConnRefused = 111;
}
