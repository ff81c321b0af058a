using System.Globalization;
using System.Text;
using CsCheck;
using Flannel.Core.Config;
using Flannel.Core.Net;

namespace Flannel.Core.Tests.Config;

public class NetConfigParserPropertyTests
{
    private static readonly string[] KnownKeys =
    [
        "Network", "SubnetLen", "SubnetMin", "SubnetMax", "EnableIPv4", "EnableIPv6", "IPv6Network", "IPv6SubnetLen",
        "IPv6SubnetMin", "IPv6SubnetMax", "EnableNFTables", "Backend",
    ];

    private static readonly Gen<string> Junk = Gen.OneOf(
        Gen.Const("null"), Gen.Const("true"), Gen.Const("false"), Gen.Const("[]"), Gen.Const("{}"), Gen.Const("\"\""),
        Gen.Const("\"x\""), Gen.Const("-1"), Gen.Const("1.5"), Gen.Const("1e3"), Gen.Int[-5, 200].Select(Number));

    private static readonly Gen<uint> Ip4Address = Gen.OneOf(
        Gen.UInt,
        Gen.Select(Gen.Int[0, 255], Gen.Int[0, 255], (b, c) => Ip4.Parse("198.18.0.0") + (uint)((b << 8) | c)),
        Gen.Select(Gen.Int[0, 3], Gen.Int[0, 15], (b, c) => Ip4.Parse("10.0.0.0") + (uint)((b << 16) | (c << 8))));

    private static readonly Gen<UInt128> Ip6Address = Gen.OneOf(
        Gen.Select(Gen.ULong, Gen.ULong, (high, low) => new UInt128(high, low)),
        Gen.Select(Gen.Int[0, 0xffff], Gen.Int[0, 3], (subnet, low) => new UInt128(0x2001_0db8_0000_0000UL + (uint)subnet, (ulong)(uint)low << 62)));

    private static readonly Gen<string> Ip4Text = Ip4Address.Select(a => Quote(Ip4.Format(a)));

    private static readonly Gen<string> Ip6Text = Ip6Address.Select(a => Quote(Ip6.Format(a)));

    private static readonly Gen<string> Net4Text = Gen.Select(Ip4Address, Gen.Frequency((4, Gen.Int[8, 30]), (1, Gen.Int[0, 32])), (a, p) => Quote($"{Ip4.Format(a)}/{p}"));

    private static readonly Gen<string> Net6Text = Gen.Select(Ip6Address, Gen.Frequency((4, Gen.Int[16, 124]), (1, Gen.Int[0, 128])), (a, p) => Quote($"{Ip6.Format(a)}/{p}"));

    private static readonly Gen<string> Bool = Gen.OneOf(Gen.Const("true"), Gen.Const("false"));

    private static readonly Gen<string> Backend = Gen.OneOf(
        Gen.OneOf(Gen.Const("vxlan"), Gen.Const("VXLAN"), Gen.Const("host-gw"), Gen.Const("udp"), Gen.Const("alloc"), Gen.Const("wireguard"), Gen.Const("foo"))
            .Select(t => $$"""{"Type": "{{t}}", "VNI": 1}"""),
        Gen.Const("{}"));

    private static readonly Gen<(string Key, string Value)> Member = Gen.Int[0, KnownKeys.Length].SelectMany(index =>
    {
        if (index == KnownKeys.Length)
        {
            return Junk.Select(v => ("Unknown", v));
        }

        string key = KnownKeys[index];
        Gen<string> valid = key switch
        {
            "Network" => Net4Text,
            "IPv6Network" => Net6Text,
            "SubnetLen" => Gen.Int[0, 32].Select(Number),
            "IPv6SubnetLen" => Gen.Int[0, 128].Select(Number),
            "SubnetMin" or "SubnetMax" => Ip4Text,
            "IPv6SubnetMin" or "IPv6SubnetMax" => Ip6Text,
            "Backend" => Backend,
            _ => Bool,
        };
        return Gen.Select(Gen.Frequency((6, valid), (1, Junk)), Gen.Int[0, 2], (value, casing) => (Case(key, casing), value));
    });

    private static readonly Gen<string> Document = Gen.Select(Net4Text, Member.Array[0, 8], Gen.Bool, (network, members, withNetwork) =>
    {
        var json = new StringBuilder("{");
        if (withNetwork)
        {
            json.Append("\"Network\": ").Append(network);
        }

        foreach ((string key, string value) in members)
        {
            if (json.Length > 1)
            {
                json.Append(", ");
            }

            json.Append('"').Append(key).Append("\": ").Append(value);
        }

        return json.Append('}').ToString();
    });

    [Fact]
    public void Parse_RandomConfig_ParsesConsistentlyOrThrowsConfigExceptionNamingTheKey()
    {
        int parsed = 0;
        int rejected = 0;
        Document.Sample(json =>
        {
            NetConfig config;
            try
            {
                config = NetConfigParser.Parse(json);
            }
            catch (ConfigException e)
            {
                Interlocked.Increment(ref rejected);
                Assert.StartsWith("net-conf: ", e.Message, StringComparison.Ordinal);
                if (e.Key is null)
                {
                    return;
                }

                Assert.Contains(e.Key, e.Message, StringComparison.Ordinal);
                Assert.Contains(e.Key.Split('.')[0], KnownKeys);
                return;
            }

            Interlocked.Increment(ref parsed);
            AssertInvariants(config);
        }, iter: 20_000);

        // Both outcomes must actually be exercised for the property to mean anything.
        Assert.True(parsed > 1000, $"only {parsed} configs parsed");
        Assert.True(rejected > 1000, $"only {rejected} configs rejected");
    }

    private static void AssertInvariants(NetConfig config)
    {
        Assert.True(config.EnableIPv4 || config.EnableIPv6);
        Assert.Contains(config.BackendType, NetConfigParser.SupportedBackendTypes);
        if (config.EnableIPv4)
        {
            Ip4Net network = Assert.NotNull(config.Network);
            Assert.True(network.IsCanonical);
            Assert.InRange(config.SubnetLen, network.PrefixLength + 2, 30);
            Assert.True(network.Contains(config.SubnetMin) && network.Contains(config.SubnetMax));
            Assert.Equal(config.SubnetMin, config.SubnetMin & Ip4.MaskOf(config.SubnetLen));
            Assert.Equal(config.SubnetMax, config.SubnetMax & Ip4.MaskOf(config.SubnetLen));
            Assert.True(config.SubnetMin <= config.SubnetMax);
        }

        if (config.EnableIPv6)
        {
            Ip6Net network = Assert.NotNull(config.IPv6Network);
            Assert.True(network.IsCanonical);
            Assert.InRange(config.IPv6SubnetLen, network.PrefixLength + 2, 126);
            Assert.True(network.Contains(config.IPv6SubnetMin) && network.Contains(config.IPv6SubnetMax));
            Assert.Equal(config.IPv6SubnetMin, config.IPv6SubnetMin & Ip6.MaskOf(config.IPv6SubnetLen));
            Assert.Equal(config.IPv6SubnetMax, config.IPv6SubnetMax & Ip6.MaskOf(config.IPv6SubnetLen));
            Assert.True(config.IPv6SubnetMin <= config.IPv6SubnetMax);
        }
    }

    private static string Number(int value) => value.ToString(CultureInfo.InvariantCulture);

    private static string Quote(string text) => $"\"{text}\"";

    private static string Case(string key, int casing) => casing switch
    {
        0 => key,
        1 => key.ToLowerInvariant(),
        _ => key.ToUpperInvariant(),
    };
}
