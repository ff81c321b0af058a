using CsCheck;
using Flannel.Core.Config;
using Flanneld.Options;

namespace Flanneld.Tests.Options;

public class FlagParserPropertyTests
{
    private static readonly string[] Names =
    [
        "etcd-endpoints", "etcd-prefix", "iface", "iface-regex", "iface-can-reach", "public-ip", "public-ipv6", "healthz-ip",
        "healthz-port", "subnet-lease-renew-margin", "subnet-lease-ttl", "iptables-resync", "ip-masq", "kube-subnet-mgr",
        "v", "vmodule", "log_backtrace_at", "version", "nope", "h",
    ];

    private static readonly Gen<string> Value = Gen.OneOf(
        Gen.OneOf("", "0", "1", "-1", "true", "false", "t", "yes", "0x10", "08", "1_0", "0b_1", "30s", "1h2m", "1.5", ".", "1d",
            "192.0.2.1", "2001:db8::1", "::ffff:1.2.3.4", "[::1]", "eth0", "a,b", "(", "^en", "x=1", "a.go:3", "a.go:0", "--", "-"),
        Gen.String[0, 6]);

    private static readonly Gen<string> Arg = Gen.OneOf(
        Gen.Select(Gen.OneOf(Names), Gen.Int[0, 2], Value, (name, form, value) => form switch
        {
            0 => "-" + name,
            1 => "--" + name,
            _ => $"--{name}={value}",
        }),
        Value);

    private static readonly Gen<(string[] Args, Dictionary<string, string> Environment)> Input = Gen.Select(
        Arg.Array[0, 6],
        Gen.Select(Gen.OneOf(Names), Value, (name, value) => ("FLANNELD_" + name.Replace('-', '_').ToUpperInvariant(), value)).Array[0, 3],
        (args, variables) => (args, variables.DistinctBy(v => v.Item1).ToDictionary(v => v.Item1, v => v.Item2)));

    [Fact]
    public void Parse_AnyInput_ReturnsOptionsOrThrowsConfigException()
    {
        Input.Sample(input =>
        {
            try
            {
                FlanneldOptions options = FlagParser.Parse(input.Args, input.Environment);
                Assert.InRange(options.SubnetLeaseRenewMarginMinutes, 1, 1439);
                Assert.InRange(options.HealthzPort, 0, 65535);
                Assert.True(options.SubnetLeaseTtl >= TimeSpan.FromSeconds(1));
                Assert.NotEmpty(options.EtcdEndpoints);
            }
            catch (ConfigException e)
            {
                // Every error names its flag (or variable) or, for a stray argument, quotes it.
                Assert.Contains(e.Key ?? "unexpected argument", e.Message, StringComparison.Ordinal);
            }
        }, iter: 20_000);
    }
}
