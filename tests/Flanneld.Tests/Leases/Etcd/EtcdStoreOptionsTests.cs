using Flanneld.Leases.Etcd;

namespace Flanneld.Tests.Leases.Etcd;

public sealed class EtcdStoreOptionsTests
{
    [Theory]
    [InlineData(86400, 10)]
    [InlineData(30, 10)]
    [InlineData(6, 2)]
    [InlineData(3, 1)]
    public void CallTimeout_ShortLease_AtMostAThirdOfTheTtl(int ttlSeconds, int expectedSeconds)
    {
        var options = new EtcdStoreOptions { SubnetLeaseTtl = TimeSpan.FromSeconds(ttlSeconds) };

        Assert.Equal(TimeSpan.FromSeconds(expectedSeconds), options.CallTimeout);
    }

    [Theory]
    [InlineData(86400, 5000)]
    [InlineData(40, 5000)]
    [InlineData(6, 750)]
    public void RenewBackoffMax_ShortLease_AtMostAnEighthOfTheTtl(int ttlSeconds, int expectedMilliseconds)
    {
        var options = new EtcdStoreOptions { SubnetLeaseTtl = TimeSpan.FromSeconds(ttlSeconds) };

        Assert.Equal(TimeSpan.FromMilliseconds(expectedMilliseconds), options.RenewBackoffMax);
    }

    [Fact]
    public void NextBackoff_DoublesUpToTheGivenLimit()
    {
        var options = new EtcdStoreOptions { ReconnectBackoffMax = TimeSpan.FromSeconds(5) };

        Assert.Equal(TimeSpan.FromMilliseconds(400), options.NextBackoff(TimeSpan.FromMilliseconds(200)));
        Assert.Equal(TimeSpan.FromSeconds(5), options.NextBackoff(TimeSpan.FromSeconds(4)));
        Assert.Equal(TimeSpan.FromMilliseconds(750), options.NextBackoff(TimeSpan.FromMilliseconds(400), TimeSpan.FromMilliseconds(750)));
    }
}
