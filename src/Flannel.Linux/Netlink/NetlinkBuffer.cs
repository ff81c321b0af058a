using System.Buffers;

namespace Flannel.Linux.Netlink;

/// <summary>
/// A growable, pooled byte buffer holding one or more netlink messages. A class (not a struct) so that
/// <see cref="NetlinkWriter"/> and its nested-attribute scopes can share it.
/// </summary>
internal sealed class NetlinkBuffer : IDisposable
{
    private byte[] _array;

    public NetlinkBuffer(int capacity = 4096) => _array = ArrayPool<byte>.Shared.Rent(capacity);

    public int Length { get; private set; }

    public Span<byte> Span => _array.AsSpan(0, Length);

    public ReadOnlyMemory<byte> Memory => _array.AsMemory(0, Length);

    public ReadOnlyMemory<byte> Slice(int start, int length) => _array.AsMemory(start, length);

    /// <summary>Appends <paramref name="count"/> zeroed bytes and returns them for filling.</summary>
    public Span<byte> Append(int count)
    {
        if (Length + count > _array.Length)
        {
            byte[] larger = ArrayPool<byte>.Shared.Rent(Math.Max(_array.Length * 2, Length + count));
            _array.AsSpan(0, Length).CopyTo(larger);
            ArrayPool<byte>.Shared.Return(_array);
            _array = larger;
        }

        Span<byte> span = _array.AsSpan(Length, count);
        span.Clear();
        Length += count;
        return span;
    }

    public Span<byte> At(int offset, int count) => _array.AsSpan(offset, count);

    public void Clear() => Length = 0;

    public void Dispose()
    {
        byte[] array = _array;
        _array = [];
        Length = 0;
        if (array.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(array);
        }
    }
}
