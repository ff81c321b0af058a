using System.Net;
using System.Net.Sockets;
using Flannel.Core.Leases;
using Flanneld.Leases.Etcd;
using Flanneld.Tests.Fixtures;
using static Flanneld.Tests.Leases.Etcd.EtcdTestKit;

namespace Flanneld.Tests.Leases.Etcd;

/// <summary>
/// An etcd member that is starting (or hung) accepts connections and never answers them. A store whose current
/// endpoint is such a member must move on in time to keep a short lease alive.
/// </summary>
public sealed class EtcdUnresponsiveMemberTests(EtcdFixture etcd) : IClassFixture<EtcdFixture>
{
    private readonly string _prefix = EtcdFixture.NewPrefix();

    [Fact]
    public async Task RenewLeaseAsync_FirstEndpointAcceptsButNeverAnswers_RenewsOnTheNextBeforeTheLeaseExpires()
    {
        TimeSpan ttl = TimeSpan.FromSeconds(3);
        using EtcdLeaseStore acquirer = Store(etcd, _prefix, ttl);
        Lease lease = await acquirer.AcquireLeaseAsync(new LeaseRequest(Config("198.18.0.0/16", 24), Node(9)), CancellationToken.None);
        string key = $"{_prefix}/subnets/{lease.Key}";
        Mvccpb.KeyValue before = (await etcd.GetAsync(key))!;

        // The kernel completes the handshakes into the listen backlog; nothing ever reads them.
        var silent = new TcpListener(IPAddress.Loopback, 0);
        silent.Start();
        try
        {
            using var store = new EtcdLeaseStore(
                new EtcdStoreOptions
                {
                    Endpoints = [$"http://127.0.0.1:{((IPEndPoint)silent.LocalEndpoint).Port}", etcd.Endpoint],
                    Prefix = _prefix,
                    SubnetLeaseTtl = ttl,
                },
                new RecordingLogger<EtcdLeaseStore>());

            Lease renewed = await store.RenewLeaseAsync(lease, CancellationToken.None);

            // Kept alive, not expired and created again: the same etcd lease holds the same, unrewritten key.
            Mvccpb.KeyValue after = (await etcd.GetAsync(key))!;
            Assert.Equal(before.Lease, after.Lease);
            Assert.Equal(before.CreateRevision, after.CreateRevision);
            Assert.Equal(before.ModRevision, after.ModRevision);
            Assert.Equal(lease.Subnet, renewed.Subnet);
        }
        finally
        {
            silent.Stop();
        }
    }
}
