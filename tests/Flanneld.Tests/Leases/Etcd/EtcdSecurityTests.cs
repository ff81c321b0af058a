using Flannel.Core.Leases;
using Flanneld.Leases.Etcd;
using Flanneld.Tests.Fixtures;
using Grpc.Core;
using static Flanneld.Tests.Leases.Etcd.EtcdTestKit;

namespace Flanneld.Tests.Leases.Etcd;

public sealed class EtcdSecurityTests(EtcdSecureFixture etcd) : IClassFixture<EtcdSecureFixture>
{
    private readonly string _prefix = EtcdFixture.NewPrefix();

    private EtcdLeaseStore SecureStore(RecordingLogger<EtcdLeaseStore> logger, string? username, string? password) =>
        new(
            new EtcdStoreOptions
            {
                Endpoints = [etcd.Endpoint],
                Prefix = _prefix,
                CaFile = etcd.CaFile,
                CertFile = etcd.CertFile,
                KeyFile = etcd.KeyFile,
                Username = username,
                Password = password,
                RetryTimeout = TimeSpan.FromSeconds(2),
            },
            logger);

    [Fact]
    public async Task AcquireAndWatch_TlsClientCertificateAndPassword_Work()
    {
        var logger = new RecordingLogger<EtcdLeaseStore>();
        using EtcdLeaseStore store = SecureStore(logger, EtcdSecureFixture.User, EtcdSecureFixture.Password);

        Lease lease = await store.AcquireLeaseAsync(new LeaseRequest(Config("198.18.0.0/16", 24), Node(1)), CancellationToken.None);
        await using var watch = new WatchReader(store);
        LeaseWatchBatch snapshot = await watch.NextAsync();

        Assert.Equal(lease.Key, Assert.Single(snapshot.Snapshot!).Key);
        Assert.DoesNotContain(logger.Entries, e => e.Message.Contains(EtcdSecureFixture.Password, StringComparison.Ordinal));
    }

    [Fact]
    public async Task AcquireLeaseAsync_NoPassword_RefusedByEtcd()
    {
        using EtcdLeaseStore store = SecureStore(new RecordingLogger<EtcdLeaseStore>(), null, null);

        var error = await Assert.ThrowsAnyAsync<RpcException>(() => store.AcquireLeaseAsync(new LeaseRequest(Config("198.18.0.0/16", 24), Node(2)), CancellationToken.None));

        Assert.Equal(StatusCode.PermissionDenied, error.StatusCode);
    }

    [Fact]
    public async Task AcquireLeaseAsync_WrongPassword_FailsWithoutLoggingIt()
    {
        var logger = new RecordingLogger<EtcdLeaseStore>();
        using EtcdLeaseStore store = SecureStore(logger, EtcdSecureFixture.User, "not-the-password");

        var error = await Assert.ThrowsAnyAsync<RpcException>(() => store.AcquireLeaseAsync(new LeaseRequest(Config("198.18.0.0/16", 24), Node(3)), CancellationToken.None));

        Assert.Contains("authentication failed", error.Status.Detail, StringComparison.Ordinal);
        Assert.DoesNotContain(logger.Entries, e => e.Message.Contains("not-the-password", StringComparison.Ordinal));
    }
}
