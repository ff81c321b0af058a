using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Flannel.Linux.Packets;

/// <summary>
/// The RFC 1071 ones'-complement checksum used by IPv4, ICMP, TCP and UDP. Sums are kept as "partial" values
/// (16-bit, not complemented, in network-order value space) so pieces such as the pseudo-header can be combined.
/// </summary>
public static class InternetChecksum
{
    /// <summary>Adds <paramref name="data"/> (starting at an even offset of the checksummed region) to a partial sum.</summary>
    public static uint Sum(ReadOnlySpan<byte> data, uint initial = 0) => Fold((ulong)FromNative(Accumulate(data)) + initial);

    /// <summary>
    /// The unfolded sum of <paramref name="data"/> (starting at an even offset of the checksummed region) taken as
    /// native-order 16-bit words: <see cref="FromNative"/> turns it into a partial sum. Lets a caller fold once for
    /// several pieces instead of once per piece.
    /// </summary>
    public static ulong Accumulate(ReadOnlySpan<byte> data)
    {
        // RFC 1071 §2(B): the sum is byte-order independent, so add native (little-endian) words eight bytes at a
        // time and swap once at the end.
        ulong acc = 0;
        int i = 0;
        if (Vector128.IsHardwareAccelerated && data.Length >= 64)
        {
            // Returned rather than added through a ref: a by-ref accumulator lives in memory, which made the
            // scalar loop below load and store it for every word.
            i = data.Length & ~31;
            acc = SumVector(data[..i]);
        }

        ReadOnlySpan<ulong> words = MemoryMarshal.Cast<byte, ulong>(data[i..]);
        foreach (ulong w in words)
        {
            acc += (uint)w;
            acc += w >> 32;
        }

        i += words.Length * 8;
        if (data.Length - i >= 4)
        {
            acc += MemoryMarshal.Read<uint>(data[i..]);
            i += 4;
        }

        if (data.Length - i >= 2)
        {
            acc += MemoryMarshal.Read<ushort>(data[i..]);
            i += 2;
        }

        if (i < data.Length)
        {
            // A trailing odd byte is the high byte of a network-order word, i.e. the low byte of a native one.
            acc += data[i];
        }

        return acc;
    }

    /// <summary>Folds an <see cref="Accumulate"/> result into a partial sum (network-order value space).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ushort FromNative(ulong accumulated)
    {
        ushort native = Fold(accumulated);
        return BitConverter.IsLittleEndian ? BinaryPrimitives.ReverseEndianness(native) : native;
    }

    /// <summary>
    /// Sums <paramref name="data"/> (a multiple of 32 bytes) as 16-bit native words widened into 32-bit lanes.
    /// 128-bit vectors on purpose: Native AOT compiles for a baseline CPU on which Vector256 is not accelerated (the
    /// scalar loop would run instead), while 128-bit vectors are on every x64 and arm64 CPU. Two independent
    /// 16-byte loads per block keep both vector adders busy. Each lane gets one add of at most 65535 per block, so
    /// lanes are flushed into the 64-bit total every 32768 blocks, long before they could overflow.
    /// </summary>
    private static ulong SumVector(ReadOnlySpan<byte> data)
    {
        ulong acc = 0;
        ref byte start = ref MemoryMarshal.GetReference(data);
        int blocks = data.Length / 32;
        int done = 0;
        while (done < blocks)
        {
            int chunk = Math.Min(blocks - done, 32768);
            Vector128<uint> a0 = Vector128<uint>.Zero;
            Vector128<uint> a1 = Vector128<uint>.Zero;
            Vector128<uint> b0 = Vector128<uint>.Zero;
            Vector128<uint> b1 = Vector128<uint>.Zero;
            for (int b = done; b < done + chunk; b++)
            {
                Vector128<ushort> v = Vector128.LoadUnsafe(ref start, (nuint)(b * 32)).AsUInt16();
                Vector128<ushort> w = Vector128.LoadUnsafe(ref start, (nuint)((b * 32) + 16)).AsUInt16();
                (Vector128<uint> vLo, Vector128<uint> vHi) = Vector128.Widen(v);
                (Vector128<uint> wLo, Vector128<uint> wHi) = Vector128.Widen(w);
                a0 += vLo;
                a1 += vHi;
                b0 += wLo;
                b1 += wHi;
            }

            foreach (Vector128<uint> lanes in (ReadOnlySpan<Vector128<uint>>)[a0, a1, b0, b1])
            {
                (Vector128<ulong> lo, Vector128<ulong> hi) = Vector128.Widen(lanes);
                acc += Vector128.Sum(lo + hi);
            }

            done += chunk;
        }

        return acc;
    }

    /// <summary>The partial sum of the IPv4 pseudo-header used by TCP and UDP.</summary>
    public static uint PseudoHeaderSum(uint source, uint destination, byte protocol, int length) =>
        Fold((ulong)(source >> 16) + (source & 0xffff) + (destination >> 16) + (destination & 0xffff) + protocol + (uint)length);

    /// <summary>The checksum field value for <paramref name="data"/>: the complement of its sum.</summary>
    public static ushort Compute(ReadOnlySpan<byte> data, uint initial = 0) => (ushort)~Sum(data, initial);

    /// <summary>Folds carries back into the low 16 bits.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ushort Fold(ulong sum)
    {
        sum = (sum & 0xffffffff) + (sum >> 32);
        sum = (sum & 0xffffffff) + (sum >> 32);
        sum = (sum & 0xffff) + (sum >> 16);
        sum = (sum & 0xffff) + (sum >> 16);
        sum = (sum & 0xffff) + (sum >> 16);
        return (ushort)sum;
    }
}
