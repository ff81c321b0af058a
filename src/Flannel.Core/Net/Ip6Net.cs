using System.Globalization;
using System.Net;

namespace Flannel.Core.Net;

/// <summary>An IPv6 network as address and prefix length; see <see cref="Ip4Net"/>.</summary>
public readonly record struct Ip6Net : ISpanFormattable
{
    public Ip6Net(UInt128 address, int prefixLength)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(prefixLength);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(prefixLength, 128);
        Address = address;
        PrefixLength = prefixLength;
    }

    public UInt128 Address { get; }

    public int PrefixLength { get; }

    public UInt128 Mask => Ip6.MaskOf(PrefixLength);

    /// <summary>The distance to the next network of the same length (2^(128-prefix); 0 for a /0).</summary>
    public UInt128 Step => PrefixLength == 0 ? UInt128.Zero : UInt128.One << (128 - PrefixLength);

    public Ip6Net Canonical => new(Address & Mask, PrefixLength);

    public bool IsCanonical => (Address & ~Mask) == UInt128.Zero;

    public UInt128 Last => (Address & Mask) | ~Mask;

    public IPAddress IPAddress => Ip6.ToIPAddress(Address);

    public Ip6Net Next() => new((Address & Mask) + Step, PrefixLength);

    public bool Contains(UInt128 address) => (address & Mask) == (Address & Mask);

    public bool Contains(Ip6Net other) => other.PrefixLength >= PrefixLength && Contains(other.Address);

    public bool Overlaps(Ip6Net other) => Contains(other.Address) || other.Contains(Address);

    public static Ip6Net Parse(string text) =>
        TryParse(text, out Ip6Net net) ? net : throw new FormatException($"'{text}' is not an IPv6 CIDR (addr/len).");

    public static bool TryParse(ReadOnlySpan<char> text, out Ip6Net net)
    {
        net = default;
        int slash = text.IndexOf('/');
        if (slash < 0
            || !Ip6.TryParse(text[..slash], out UInt128 address)
            || !Ip4Net.TryParsePrefix(text[(slash + 1)..], 128, out int prefix))
        {
            return false;
        }

        net = new Ip6Net(address, prefix);
        return true;
    }

    // In a stack buffer, as Ip4Net.ToString (the longest IPv6 text is 45 characters).
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, stackalloc char[49], $"{Ip6.Format(Address)}/{PrefixLength}");

    public string ToString(string? format, IFormatProvider? formatProvider) => ToString();

    public bool TryFormat(Span<char> destination, out int charsWritten, ReadOnlySpan<char> format, IFormatProvider? provider) =>
        destination.TryWrite(CultureInfo.InvariantCulture, $"{Ip6.Format(Address)}/{PrefixLength}", out charsWritten);
}
