using Flannel.Core.Config;
using Flannel.Core.Net;

namespace Flannel.Core.Tests.Config;

public class SubnetEnvFileTests
{
    [Fact]
    public void Format_Ipv4_MatchesUpstreamCapture()
    {
        var env = new SubnetEnv
        {
            Networks = [Ip4Net.Parse("198.18.0.0/16")],
            Subnet = Ip4Net.Parse("198.18.30.0/24"),
            Mtu = 1450,
            IpMasq = true,
        };
        Assert.Equal("FLANNEL_NETWORK=198.18.0.0/16\nFLANNEL_SUBNET=198.18.30.1/24\nFLANNEL_MTU=1450\nFLANNEL_IPMASQ=true\n", SubnetEnvFile.Format(env));
    }

    [Fact]
    public void Format_DualStack_InUpstreamOrder()
    {
        var env = new SubnetEnv
        {
            Networks = [Ip4Net.Parse("198.18.0.0/16")],
            Subnet = Ip4Net.Parse("198.18.30.0/24"),
            IPv6Networks = [Ip6Net.Parse("2001:db8::/48")],
            IPv6Subnet = Ip6Net.Parse("2001:db8:0:5::/64"),
            Mtu = 1450,
            IpMasq = false,
        };
        Assert.Equal(
            "FLANNEL_NETWORK=198.18.0.0/16\nFLANNEL_SUBNET=198.18.30.1/24\nFLANNEL_IPV6_NETWORK=2001:db8::/48\nFLANNEL_IPV6_SUBNET=2001:db8:0:5::1/64\nFLANNEL_MTU=1450\nFLANNEL_IPMASQ=false\n",
            SubnetEnvFile.Format(env));
    }

    [Fact]
    public void Parse_RoundTripsAndCanonicalisesSubnet()
    {
        SubnetEnv env = SubnetEnvFile.Parse("# comment\nexport FLANNEL_NETWORK=\"198.18.0.0/16,198.19.0.0/16,198.18.0.0/16\"\nFLANNEL_SUBNET=198.18.30.1/24\nFLANNEL_MTU=1450\nFLANNEL_IPMASQ=true\nOTHER=x\n");
        Assert.Equal([Ip4Net.Parse("198.18.0.0/16"), Ip4Net.Parse("198.19.0.0/16")], env.Networks);
        Assert.Equal(Ip4Net.Parse("198.18.30.0/24"), env.Subnet);
        Assert.Equal(1450, env.Mtu);
        Assert.True(env.IpMasq);
    }

    [Theory]
    [InlineData("FLANNEL_SUBNET=198.18.30/24", "FLANNEL_SUBNET")]
    [InlineData("FLANNEL_MTU=-1", "FLANNEL_MTU")]
    [InlineData("FLANNEL_NETWORK=nope", "FLANNEL_NETWORK")]
    public void Parse_BadValue_NamesKey(string content, string key)
    {
        FormatException ex = Assert.Throws<FormatException>(() => SubnetEnvFile.Parse(content));
        Assert.Contains(key, ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("FLANNEL_MTU=0")]
    [InlineData("FLANNEL_MTU=abc")]
    [InlineData("FLANNEL_NETWORK=nope")]
    [InlineData("FLANNEL_IPV6_NETWORK=nope")]
    public void TryReadSubnets_OtherKeyBad_SubnetsStillRead(string badLine)
    {
        string path = Path.Combine(Path.GetTempPath(), "flannel-test-" + Guid.NewGuid().ToString("N"));
        try
        {
            File.WriteAllText(path, $"FLANNEL_NETWORK=198.18.0.0/16\nFLANNEL_SUBNET=198.18.30.1/24\nFLANNEL_IPV6_SUBNET=2001:db8:0:5::1/64\n{badLine}\nFLANNEL_IPMASQ=true\n");

            // What CNI reads must still be checked in full; the daemon asking for its subnet again needs only that.
            Assert.Throws<FormatException>(() => SubnetEnvFile.TryRead(path));
            SubnetEnv env = SubnetEnvFile.TryReadSubnets(path)!;
            Assert.Equal(Ip4Net.Parse("198.18.30.0/24"), env.Subnet);
            Assert.Equal(Ip6Net.Parse("2001:db8:0:5::/64"), env.IPv6Subnet);
            Assert.Null(env.Mtu);
            Assert.Empty(env.Networks);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void TryReadSubnets_BadSubnetOrMissingFile_ThrowsNamingKeyOrNull()
    {
        string path = Path.Combine(Path.GetTempPath(), "flannel-test-" + Guid.NewGuid().ToString("N"));
        try
        {
            Assert.Null(SubnetEnvFile.TryReadSubnets(path));
            File.WriteAllText(path, "FLANNEL_SUBNET=198.18.30/24\n");
            FormatException ex = Assert.Throws<FormatException>(() => SubnetEnvFile.TryReadSubnets(path));
            Assert.Contains("FLANNEL_SUBNET", ex.Message, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Write_IsAtomicWithMode0644AndReadsBack()
    {
        string dir = Path.Combine(Path.GetTempPath(), "flannel-test-" + Guid.NewGuid().ToString("N"));
        try
        {
            string path = Path.Combine(dir, "sub", "subnet.env");
            var env = new SubnetEnv { Networks = [Ip4Net.Parse("198.18.0.0/16")], Subnet = Ip4Net.Parse("198.18.7.0/24"), Mtu = 1500, IpMasq = false };
            SubnetEnvFile.Write(path, env);
            Assert.Equal(
                UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead,
                File.GetUnixFileMode(path));
            Assert.Single(Directory.GetFiles(Path.GetDirectoryName(path)!));
            SubnetEnv back = SubnetEnvFile.TryRead(path)!;
            Assert.Equal(env.Subnet, back.Subnet);
            Assert.Equal(env.Networks, back.Networks);
            Assert.Null(SubnetEnvFile.TryRead(Path.Combine(dir, "missing")));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
