namespace Flannel.Linux.Tun;

/// <summary>TUNSETOFFLOAD flags (linux/if_tun.h): what the kernel may hand us unfinished.</summary>
[Flags]
public enum TunOffloads
{
    None = 0,
    Checksum = 0x01,
    Tso4 = 0x02,
    Tso6 = 0x04,
    TsoEcn = 0x08,
}
