using System.Buffers.Binary;

namespace Flannel.Linux.Packets;

/// <summary>
/// The <c>struct virtio_net_hdr</c> (10 bytes, little-endian on the hosts we run on) that a TUN opened with
/// IFF_VNET_HDR puts before every packet: it describes checksum offload and GSO super-segments.
/// </summary>
public readonly record struct VirtioNetHeader(
    byte Flags, byte GsoType, ushort HeaderLength, ushort GsoSize, ushort ChecksumStart, ushort ChecksumOffset)
{
    public const int Size = 10;

    public const byte FlagNeedsChecksum = 1;
    public const byte FlagDataValid = 2;

    public const byte GsoNone = 0;
    public const byte GsoTcpV4 = 1;
    public const byte GsoUdp = 3;
    public const byte GsoTcpV6 = 4;
    public const byte GsoUdpL4 = 5;
    public const byte GsoEcn = 0x80;

    public bool NeedsChecksum => (Flags & FlagNeedsChecksum) != 0;

    /// <summary>The GSO type without the ECN bit.</summary>
    public byte GsoKind => (byte)(GsoType & ~GsoEcn);

    public static VirtioNetHeader Read(ReadOnlySpan<byte> b) => new(
        b[0],
        b[1],
        BinaryPrimitives.ReadUInt16LittleEndian(b[2..]),
        BinaryPrimitives.ReadUInt16LittleEndian(b[4..]),
        BinaryPrimitives.ReadUInt16LittleEndian(b[6..]),
        BinaryPrimitives.ReadUInt16LittleEndian(b[8..]));

    public void Write(Span<byte> b)
    {
        b[0] = Flags;
        b[1] = GsoType;
        BinaryPrimitives.WriteUInt16LittleEndian(b[2..], HeaderLength);
        BinaryPrimitives.WriteUInt16LittleEndian(b[4..], GsoSize);
        BinaryPrimitives.WriteUInt16LittleEndian(b[6..], ChecksumStart);
        BinaryPrimitives.WriteUInt16LittleEndian(b[8..], ChecksumOffset);
    }
}
