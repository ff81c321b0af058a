namespace Flannel.Linux.Tun;

/// <summary>How to open a TUN device.</summary>
public sealed record TunOptions
{
    /// <summary>Interface name; a <c>%d</c> lets the kernel pick the number (upstream asks for <c>flannel%d</c>).</summary>
    public string Name { get; init; } = "flannel0";

    /// <summary>Ask for IFF_VNET_HDR and checksum/TSO offloads; falls back to plain when the kernel refuses.</summary>
    public bool Offload { get; init; } = true;

    /// <summary>Number of queues; more than one opens the device with IFF_MULTI_QUEUE, one descriptor per queue.</summary>
    public int Queues { get; init; } = 1;
}
