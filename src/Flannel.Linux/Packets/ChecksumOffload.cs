using System.Buffers.Binary;

namespace Flannel.Linux.Packets;

/// <summary>Finishes a checksum the kernel left partial (virtio_net_hdr NEEDS_CSUM, i.e. CHECKSUM_PARTIAL).</summary>
public static class ChecksumOffload
{
    /// <summary>
    /// The field at start+offset holds the pseudo-header sum; the checksum covers everything from start to the end.
    /// Returns false when start/offset do not fit the packet.
    /// </summary>
    public static bool Complete(Span<byte> packet, int start, int offset)
    {
        if (start < 0 || offset < 0 || start + offset + 2 > packet.Length)
        {
            return false;
        }

        ushort checksum = InternetChecksum.Compute(packet[start..]);
        BinaryPrimitives.WriteUInt16BigEndian(packet[(start + offset)..], checksum);
        return true;
    }
}
