using System.Globalization;
using System.Net;

namespace Flannel.Core.Net;

/// <summary>
/// An IPv4 network as address and prefix length. The address may carry host bits
/// (subnet.env writes <c>198.18.30.1/24</c>); <see cref="Canonical"/> drops them.
/// </summary>
public readonly record struct Ip4Net : ISpanFormattable
{
    public Ip4Net(uint address, int prefixLength)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(prefixLength);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(prefixLength, 32);
        Address = address;
        PrefixLength = prefixLength;
    }

    public uint Address { get; }

    public int PrefixLength { get; }

    public uint Mask => Ip4.MaskOf(PrefixLength);

    /// <summary>The number of addresses in the network (2^(32-prefix)).</summary>
    public ulong Size => 1UL << (32 - PrefixLength);

    public Ip4Net Canonical => new(Address & Mask, PrefixLength);

    public bool IsCanonical => (Address & ~Mask) == 0;

    /// <summary>The last address of the network.</summary>
    public uint Last => (Address & Mask) | ~Mask;

    public IPAddress IPAddress => Ip4.ToIPAddress(Address);

    /// <summary>The network that follows this one, with the same prefix length.</summary>
    public Ip4Net Next() => new((uint)((Address & Mask) + Size), PrefixLength);

    public bool Contains(uint address) => (address & Mask) == (Address & Mask);

    /// <summary>True when <paramref name="other"/> lies wholly inside this network.</summary>
    public bool Contains(Ip4Net other) => other.PrefixLength >= PrefixLength && Contains(other.Address);

    public bool Overlaps(Ip4Net other) => Contains(other.Address) || other.Contains(Address);

    public static Ip4Net Parse(string text) =>
        TryParse(text, out Ip4Net net) ? net : throw new FormatException($"'{text}' is not an IPv4 CIDR (a.b.c.d/len).");

    public static bool TryParse(ReadOnlySpan<char> text, out Ip4Net net)
    {
        net = default;
        int slash = text.IndexOf('/');
        if (slash < 0
            || !Ip4.TryParse(text[..slash], out uint address)
            || !TryParsePrefix(text[(slash + 1)..], 32, out int prefix))
        {
            return false;
        }

        net = new Ip4Net(address, prefix);
        return true;
    }

    internal static bool TryParsePrefix(ReadOnlySpan<char> text, int max, out int prefix)
    {
        prefix = 0;
        if (text.IsEmpty || text.Length > 3 || (text.Length > 1 && text[0] == '0'))
        {
            return false;
        }

        foreach (char c in text)
        {
            if (!char.IsAsciiDigit(c))
            {
                return false;
            }

            prefix = (prefix * 10) + (c - '0');
        }

        return prefix <= max;
    }

    // In a stack buffer, as Ip4.Format: two pooled buffers alive at once (the address's inside ours) send the second one
    // returned to the pool's per-core stacks, whose first use times the processor-number lookup (~0.1 ms of the CNI
    // plugin's ~2 ms run).
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, stackalloc char[18], $"{Ip4.Format(Address)}/{PrefixLength}");

    public string ToString(string? format, IFormatProvider? formatProvider) => ToString();

    public bool TryFormat(Span<char> destination, out int charsWritten, ReadOnlySpan<char> format, IFormatProvider? provider) =>
        destination.TryWrite(CultureInfo.InvariantCulture, $"{Ip4.Format(Address)}/{PrefixLength}", out charsWritten);
}
