namespace Flannel.Cni.Tests;

public sealed class PluginSubnetEnvTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("fnt-cni-env-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Write(string content)
    {
        string path = Path.Combine(_dir, "subnet.env");
        File.WriteAllText(path, content);
        return path;
    }

    [Fact]
    public void Load_DualStackWithLists_ParsesCanonicalSubnetsAndDedupsNetworks()
    {
        var env = PluginSubnetEnv.Load(Write(
            "FLANNEL_NETWORK=198.18.0.0/16,198.19.0.0/16,198.18.0.0/16\nFLANNEL_SUBNET=198.18.30.1/24\nFLANNEL_IPV6_NETWORK=2001:db8::/48\nFLANNEL_IPV6_SUBNET=2001:db8:0:1::1/64\nFLANNEL_MTU=1450\nFLANNEL_IPMASQ=true\n"));
        Assert.Equal(["198.18.0.0/16", "198.19.0.0/16"], env.Networks.Select(n => n.ToString()));
        Assert.Equal("198.18.30.0/24", env.Subnet.ToString());
        Assert.Equal("2001:db8:0:1::/64", env.IPv6Subnet.ToString());
        Assert.Equal(1450, env.Mtu);
        Assert.True(env.IpMasq);
    }

    [Fact]
    public void Load_NoKnownKeys_ListsAllMissingAsUpstream()
    {
        string path = Write("foo=bar\n");
        CniException e = Assert.Throws<CniException>(() => PluginSubnetEnv.Load(path));
        Assert.Contains($"{path} is missing FLANNEL_NETWORK, FLANNEL_IPV6_NETWORK, FLANNEL_SUBNET, FLANNEL_IPV6_SUBNET, FLANNEL_MTU, FLANNEL_IPMASQ", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_MissingMtuOnly_NamesIt()
    {
        string path = Write("FLANNEL_NETWORK=198.18.0.0/16\nFLANNEL_SUBNET=198.18.30.1/24\nFLANNEL_IPMASQ=false\n");
        CniException e = Assert.Throws<CniException>(() => PluginSubnetEnv.Load(path));
        Assert.Contains($"{path} is missing FLANNEL_MTU.", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_Ipv6Only_IsComplete()
    {
        var env = PluginSubnetEnv.Load(Write("FLANNEL_IPV6_NETWORK=2001:db8::/48\nFLANNEL_IPV6_SUBNET=2001:db8::1/64\nFLANNEL_MTU=1450\nFLANNEL_IPMASQ=true\n"));
        Assert.Null(env.Subnet);
        Assert.Equal("2001:db8::/64", env.IPv6Subnet.ToString());
    }

    [Fact]
    public void Load_BadValue_NamesKeyAndValue()
    {
        string path = Write("FLANNEL_NETWORK=198.18.0.0/99\n");
        CniException e = Assert.Throws<CniException>(() => PluginSubnetEnv.Load(path));
        Assert.Equal(CniErrorCode.DecodingFailure, e.Code);
        Assert.Contains("FLANNEL_NETWORK=198.18.0.0/99", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_NoFile_TryAgainLaterPointingAtFlanneld()
    {
        string path = Path.Combine(_dir, "absent.env");
        CniException e = Assert.Throws<CniException>(() => PluginSubnetEnv.Load(path));
        Assert.Equal(CniErrorCode.TryAgainLater, e.Code);
        Assert.Equal($"failed to load flannel 'subnet.env' file: open {path}: no such file or directory. Check the flannel pod log for this node.", e.Message);
        Assert.Contains("flanneld is running", e.Details, StringComparison.Ordinal);
    }
}
