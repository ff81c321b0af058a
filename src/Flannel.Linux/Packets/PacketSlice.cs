namespace Flannel.Linux.Packets;

/// <summary>A piece of a packet that lives in <paramref name="Array"/> (pinned, for gather I/O) at <paramref name="Offset"/>.</summary>
public readonly record struct PacketSlice(byte[] Array, int Offset, int Length)
{
    public ReadOnlySpan<byte> Span => Array.AsSpan(Offset, Length);
}
