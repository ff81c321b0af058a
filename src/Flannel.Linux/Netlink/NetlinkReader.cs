using System.Buffers.Binary;
using System.Net;
using System.Text;

namespace Flannel.Linux.Netlink;

/// <summary>One netlink message inside a received datagram.</summary>
internal readonly ref struct NetlinkMessage
{
    public NetlinkMessage(ushort type, ushort flags, uint sequence, uint portId, ReadOnlySpan<byte> payload)
    {
        Type = type;
        Flags = flags;
        Sequence = sequence;
        PortId = portId;
        Payload = payload;
    }

    public ushort Type { get; }

    public ushort Flags { get; }

    public uint Sequence { get; }

    public uint PortId { get; }

    /// <summary>Everything after the 16-byte header.</summary>
    public ReadOnlySpan<byte> Payload { get; }

    /// <summary>The attributes that follow a fixed struct of <paramref name="structLength"/> bytes.</summary>
    public NetlinkAttributeReader Attributes(int structLength) =>
        new(Payload.Length >= NetlinkWriter.Align(structLength) ? Payload[NetlinkWriter.Align(structLength)..] : []);
}

/// <summary>Walks the messages of one datagram.</summary>
internal ref struct NetlinkMessageReader
{
    private ReadOnlySpan<byte> _rest;

    public NetlinkMessageReader(ReadOnlySpan<byte> datagram) => _rest = datagram;

    public bool TryRead(out NetlinkMessage message)
    {
        message = default;
        if (_rest.Length < Nl.HeaderLength)
        {
            return false;
        }

        uint length = BinaryPrimitives.ReadUInt32LittleEndian(_rest);
        if (length < Nl.HeaderLength || length > _rest.Length)
        {
            throw new NetlinkProtocolException($"malformed netlink message: length {length} with {_rest.Length} bytes left");
        }

        message = new NetlinkMessage(
            BinaryPrimitives.ReadUInt16LittleEndian(_rest[4..]),
            BinaryPrimitives.ReadUInt16LittleEndian(_rest[6..]),
            BinaryPrimitives.ReadUInt32LittleEndian(_rest[8..]),
            BinaryPrimitives.ReadUInt32LittleEndian(_rest[12..]),
            _rest[Nl.HeaderLength..(int)length]);
        int next = NetlinkWriter.Align((int)length);
        _rest = next >= _rest.Length ? [] : _rest[next..];
        return true;
    }
}

/// <summary>Walks a run of attributes (type/length/value, 4-byte aligned).</summary>
internal ref struct NetlinkAttributeReader
{
    private ReadOnlySpan<byte> _rest;

    public NetlinkAttributeReader(ReadOnlySpan<byte> attributes) => _rest = attributes;

    /// <summary>Type with the NLA_F_NESTED and NLA_F_NET_BYTEORDER bits removed.</summary>
    public ushort Type { get; private set; }

    public ReadOnlySpan<byte> Value { get; private set; }

    public bool MoveNext()
    {
        while (_rest.Length >= 4)
        {
            ushort length = BinaryPrimitives.ReadUInt16LittleEndian(_rest);
            if (length < 4 || length > _rest.Length)
            {
                _rest = [];
                return false;
            }

            Type = (ushort)(BinaryPrimitives.ReadUInt16LittleEndian(_rest[2..]) & 0x3fff);
            Value = _rest[4..length];
            int next = NetlinkWriter.Align(length);
            _rest = next >= _rest.Length ? [] : _rest[next..];
            return true;
        }

        return false;
    }

    public readonly NetlinkAttributeReader Nested() => new(Value);

    public readonly byte U8() => Value.Length >= 1 ? Value[0] : (byte)0;

    public readonly ushort U16() => Value.Length >= 2 ? BinaryPrimitives.ReadUInt16LittleEndian(Value) : (ushort)0;

    public readonly ushort U16BigEndian() => Value.Length >= 2 ? BinaryPrimitives.ReadUInt16BigEndian(Value) : (ushort)0;

    public readonly uint U32() => Value.Length >= 4 ? BinaryPrimitives.ReadUInt32LittleEndian(Value) : 0;

    public readonly string String()
    {
        ReadOnlySpan<byte> v = Value;
        int nul = v.IndexOf((byte)0);
        return Encoding.UTF8.GetString(nul >= 0 ? v[..nul] : v);
    }

    public readonly IPAddress? Address() => Value.Length is 4 or 16 ? new IPAddress(Value) : null;
}
