using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Flannel.Linux.Netlink;

/// <summary>
/// Writes netlink messages into a <see cref="NetlinkBuffer"/>: a header, a fixed family struct, then attributes.
/// Lengths are patched when a message or nested attribute ends, so callers never count bytes.
/// Integers are in host order (little-endian on every platform .NET runs Linux on) except where netlink
/// itself wants network order (ports).
/// </summary>
internal ref struct NetlinkWriter
{
    private readonly NetlinkBuffer _buffer;
    private int _messageStart;

    public NetlinkWriter(NetlinkBuffer buffer)
    {
        _buffer = buffer;
        _messageStart = -1;
    }

    public static int Align(int length) => (length + 3) & ~3;

    /// <summary>Starts a message; <see cref="EndMessage"/> fills in its length.</summary>
    public void BeginMessage(ushort type, ushort flags, uint sequence, uint portId = 0)
    {
        _messageStart = _buffer.Length;
        Span<byte> header = _buffer.Append(Nl.HeaderLength);
        BinaryPrimitives.WriteUInt16LittleEndian(header[4..], type);
        BinaryPrimitives.WriteUInt16LittleEndian(header[6..], flags);
        BinaryPrimitives.WriteUInt32LittleEndian(header[8..], sequence);
        BinaryPrimitives.WriteUInt32LittleEndian(header[12..], portId);
    }

    public readonly void EndMessage()
    {
        int length = _buffer.Length - _messageStart;
        BinaryPrimitives.WriteUInt32LittleEndian(_buffer.At(_messageStart, 4), (uint)length);
    }

    /// <summary>Appends a zeroed fixed-size struct (padded to 4 bytes) and returns it for filling.</summary>
    public readonly Span<byte> Struct(int length)
    {
        Span<byte> span = _buffer.Append(Align(length));
        return span[..length];
    }

    public readonly void IfInfo(byte family, int index, uint flags = 0, uint change = 0, ushort type = 0)
    {
        Span<byte> s = Struct(Nl.IfInfoMsgLength);
        s[0] = family;
        BinaryPrimitives.WriteUInt16LittleEndian(s[2..], type);
        BinaryPrimitives.WriteInt32LittleEndian(s[4..], index);
        BinaryPrimitives.WriteUInt32LittleEndian(s[8..], flags);
        BinaryPrimitives.WriteUInt32LittleEndian(s[12..], change);
    }

    public readonly void IfAddr(byte family, byte prefixLength, byte flags, byte scope, int index)
    {
        Span<byte> s = Struct(Nl.IfAddrMsgLength);
        s[0] = family;
        s[1] = prefixLength;
        s[2] = flags;
        s[3] = scope;
        BinaryPrimitives.WriteInt32LittleEndian(s[4..], index);
    }

    public readonly void Rt(byte family, byte dstLength, byte table, byte protocol, byte scope, byte type, uint flags)
    {
        Span<byte> s = Struct(Nl.RtMsgLength);
        s[0] = family;
        s[1] = dstLength;
        s[4] = table;
        s[5] = protocol;
        s[6] = scope;
        s[7] = type;
        BinaryPrimitives.WriteUInt32LittleEndian(s[8..], flags);
    }

    public readonly void Nd(byte family, int index, ushort state, byte flags, byte type = 0)
    {
        Span<byte> s = Struct(Nl.NdMsgLength);
        s[0] = family;
        BinaryPrimitives.WriteInt32LittleEndian(s[4..], index);
        BinaryPrimitives.WriteUInt16LittleEndian(s[8..], state);
        s[10] = flags;
        s[11] = type;
    }

    public readonly void Attribute(ushort type, ReadOnlySpan<byte> value)
    {
        Span<byte> span = _buffer.Append(Align(4 + value.Length));
        BinaryPrimitives.WriteUInt16LittleEndian(span, (ushort)(4 + value.Length));
        BinaryPrimitives.WriteUInt16LittleEndian(span[2..], type);
        value.CopyTo(span[4..]);
    }

    public readonly void Flag(ushort type) => Attribute(type, []);

    public readonly void U8(ushort type, byte value) => Attribute(type, [value]);

    public readonly void U16(ushort type, ushort value)
    {
        Span<byte> b = stackalloc byte[2];
        BinaryPrimitives.WriteUInt16LittleEndian(b, value);
        Attribute(type, b);
    }

    public readonly void U16BigEndian(ushort type, ushort value)
    {
        Span<byte> b = stackalloc byte[2];
        BinaryPrimitives.WriteUInt16BigEndian(b, value);
        Attribute(type, b);
    }

    public readonly void U32(ushort type, uint value)
    {
        Span<byte> b = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(b, value);
        Attribute(type, b);
    }

    public readonly void S32(ushort type, int value) => U32(type, unchecked((uint)value));

    /// <summary>A NUL-terminated string, as the kernel expects for names and kinds.</summary>
    public readonly void String(ushort type, string value)
    {
        int count = Encoding.UTF8.GetByteCount(value);
        Span<byte> b = count < 256 ? stackalloc byte[count + 1] : new byte[count + 1];
        Encoding.UTF8.GetBytes(value, b);
        b[count] = 0;
        Attribute(type, b);
    }

    public readonly void Address(ushort type, IPAddress address)
    {
        Span<byte> b = stackalloc byte[16];
        address.TryWriteBytes(b, out int written);
        Attribute(type, b[..written]);
    }

    /// <summary>Opens a nested attribute; disposing the scope patches its length.</summary>
    public readonly NestedAttribute Nested(ushort type)
    {
        int start = _buffer.Length;
        Span<byte> span = _buffer.Append(4);
        BinaryPrimitives.WriteUInt16LittleEndian(span[2..], type);
        return new NestedAttribute(_buffer, start);
    }

    public static byte FamilyOf(IPAddress address) =>
        address.AddressFamily == AddressFamily.InterNetworkV6 ? Nl.AF_INET6 : Nl.AF_INET;
}

/// <summary>The open nested attribute of a <see cref="NetlinkWriter"/>; <see cref="Dispose"/> writes its final length.</summary>
internal readonly ref struct NestedAttribute
{
    private readonly NetlinkBuffer _buffer;
    private readonly int _start;

    public NestedAttribute(NetlinkBuffer buffer, int start)
    {
        _buffer = buffer;
        _start = start;
    }

    public void Dispose() =>
        BinaryPrimitives.WriteUInt16LittleEndian(_buffer.At(_start, 2), (ushort)(_buffer.Length - _start));
}
