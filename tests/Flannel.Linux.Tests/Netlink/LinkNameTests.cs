using Flannel.Linux.Netlink;

namespace Flannel.Linux.Tests.Netlink;

public sealed class LinkNameTests
{
    [Theory]
    [InlineData("flannel.1", true)]
    [InlineData("flannel-v6.4096", true)]
    [InlineData("abcdefghijklmno", true)]
    [InlineData("abcdefghijklmnop", false)]
    [InlineData("", false)]
    [InlineData("..", false)]
    [InlineData("a/b", false)]
    [InlineData("eth0:1", false)]
    [InlineData("a b", false)]
    public void IsValid_Name_MatchesKernelRules(string name, bool expected) => Assert.Equal(expected, LinkName.IsValid(name));

    [Fact]
    public async Task CreateLinkAsync_NameTooLong_ThrowsNamingFieldAndValue()
    {
        using var ns = new TestNamespace("longname");

        ArgumentException error = await Assert.ThrowsAsync<ArgumentException>(
            () => ns.Netlink.CreateLinkAsync(new BridgeLinkSpec("flannel-v6.16777215"), TestNamespace.Timeout));

        Assert.Contains("link name 'flannel-v6.16777215'", error.Message, StringComparison.Ordinal);
    }
}
