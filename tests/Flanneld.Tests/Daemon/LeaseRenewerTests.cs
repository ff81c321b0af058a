using Flanneld.Daemon;

namespace Flanneld.Tests.Daemon;

public class LeaseRenewerTests
{
    [Fact]
    public void RenewDelay_UpstreamDefaults_RenewsAtMargin()
    {
        Assert.Equal(TimeSpan.FromHours(23), LeaseRenewer.RenewDelay(TimeSpan.FromHours(24), TimeSpan.FromMinutes(60)));
    }

    [Fact]
    public void RenewDelay_MarginLongerThanTtl_RenewsHalfway()
    {
        Assert.Equal(TimeSpan.FromSeconds(5), LeaseRenewer.RenewDelay(TimeSpan.FromSeconds(10), TimeSpan.FromMinutes(60)));
    }

    [Fact]
    public void RenewDelay_AlreadyExpired_Immediately()
    {
        Assert.Equal(TimeSpan.Zero, LeaseRenewer.RenewDelay(TimeSpan.FromSeconds(-3), TimeSpan.FromMinutes(60)));
    }
}

public class FlanneldOptionsTests
{
    [Fact]
    public void ToString_NeverShowsThePassword()
    {
        var options = new Flanneld.Options.FlanneldOptions { EtcdPassword = "s3cret-pw", EtcdUsername = "root" };
        Assert.DoesNotContain("s3cret-pw", options.ToString(), StringComparison.Ordinal);
        Assert.Contains("redacted", options.ToString(), StringComparison.Ordinal);
    }
}
