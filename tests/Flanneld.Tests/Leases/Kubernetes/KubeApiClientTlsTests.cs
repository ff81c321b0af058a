using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Flanneld.Leases.Kubernetes;
using k8s;

namespace Flanneld.Tests.Leases.Kubernetes;

/// <summary>
/// <see cref="KubeApiClient.FromConfiguration"/> builds its own TLS setup and credentials from a KubernetesClient
/// configuration; checked here against a one-request HTTPS server on loopback with certificates made in the test.
/// </summary>
public sealed class KubeApiClientTlsTests : IDisposable
{
    private const string NodeList = """{"kind":"NodeList","metadata":{"resourceVersion":"42"},"items":[]}""";

    private readonly X509Certificate2 _ca;
    private readonly X509Certificate2 _server;
    private readonly X509Certificate2 _otherCa;

    public KubeApiClientTlsTests()
    {
        _ca = MakeCa("CN=flannel-test-ca");
        _otherCa = MakeCa("CN=flannel-other-ca");
        _server = MakeLeaf(_ca, "CN=127.0.0.1", server: true);
    }

    public void Dispose()
    {
        _ca.Dispose();
        _server.Dispose();
        _otherCa.Dispose();
    }

    [Fact]
    public async Task FromConfiguration_HttpsWithClusterCaAndToken_ListsNodesWithBearerToken()
    {
        await using var server = OneRequestServer.Start(_server, requireClientCertificate: false);
        var configuration = new KubernetesClientConfiguration { Host = server.Url, SslCaCerts = [_ca], AccessToken = "t0ken" };
        using KubeApiClient api = KubeApiClient.FromConfiguration(configuration);

        NodeListPage page = await api.ListNodesAsync(10, null, "flannel.alpha.coreos.com", CancellationToken.None);

        Assert.Equal("42", page.ResourceVersion);
        Assert.Contains("Authorization: Bearer t0ken", await server.RequestAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task FromConfiguration_ServerCertFromAnotherCa_Refused()
    {
        await using var server = OneRequestServer.Start(_server, requireClientCertificate: false);
        var configuration = new KubernetesClientConfiguration { Host = server.Url, SslCaCerts = [_otherCa] };
        using KubeApiClient api = KubeApiClient.FromConfiguration(configuration);

        var ex = await Assert.ThrowsAsync<HttpRequestException>(() => api.ListNodesAsync(10, null, "flannel.alpha.coreos.com", CancellationToken.None));
        Assert.IsType<System.Security.Authentication.AuthenticationException>(ex.InnerException);
    }

    [Fact]
    public async Task FromConfiguration_ClientCertificateFromPemData_PresentedToServer()
    {
        using X509Certificate2 client = MakeLeaf(_ca, "CN=system:node:node1", server: false);
        await using var server = OneRequestServer.Start(_server, requireClientCertificate: true);
        var configuration = new KubernetesClientConfiguration
        {
            Host = server.Url,
            SslCaCerts = [_ca],
            ClientCertificateData = Convert.ToBase64String(Encoding.ASCII.GetBytes(client.ExportCertificatePem())),
            ClientCertificateKeyData = Convert.ToBase64String(Encoding.ASCII.GetBytes(client.GetRSAPrivateKey()!.ExportPkcs8PrivateKeyPem())),
        };
        using KubeApiClient api = KubeApiClient.FromConfiguration(configuration);

        await api.ListNodesAsync(10, null, "flannel.alpha.coreos.com", CancellationToken.None);

        Assert.Equal("CN=system:node:node1", server.ClientSubject);
    }

    [Fact]
    public void FromConfiguration_HttpsWithoutCaNorSkipVerify_NamesTheProblem()
    {
        var configuration = new KubernetesClientConfiguration { Host = "https://127.0.0.1:6443" };

        var ex = Assert.Throws<k8s.Exceptions.KubeConfigException>(() => KubeApiClient.FromConfiguration(configuration));
        Assert.Contains("CA", ex.Message, StringComparison.Ordinal);
    }

    private static X509Certificate2 MakeCa(string subject)
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        return request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(2));
    }

    private static X509Certificate2 MakeLeaf(X509Certificate2 ca, string subject, bool server)
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, false));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(
            [server ? new Oid("1.3.6.1.5.5.7.3.1") : new Oid("1.3.6.1.5.5.7.3.2")], false));
        if (server)
        {
            var names = new SubjectAlternativeNameBuilder();
            names.AddIpAddress(IPAddress.Loopback);
            request.CertificateExtensions.Add(names.Build());
        }

        byte[] serial = RandomNumberGenerator.GetBytes(8);
        using X509Certificate2 signed = request.Create(ca, DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1), serial);
        using X509Certificate2 withKey = signed.CopyWithPrivateKey(key);

        // An exported and re-imported PKCS#12 carries its key in a form SslStream can use on Linux.
        return X509CertificateLoader.LoadPkcs12(withKey.Export(X509ContentType.Pkcs12), null);
    }

    /// <summary>Answers one HTTPS request on 127.0.0.1 with a node list; records the request head and the client certificate.</summary>
    private sealed class OneRequestServer : IAsyncDisposable
    {
        private readonly TcpListener _listener;
        private readonly Task<string> _served;

        private OneRequestServer(TcpListener listener, X509Certificate2 certificate, bool requireClientCertificate)
        {
            _listener = listener;
            _served = ServeAsync(certificate, requireClientCertificate);
        }

        public string Url => $"https://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}";

        public string? ClientSubject { get; private set; }

        public static OneRequestServer Start(X509Certificate2 certificate, bool requireClientCertificate)
        {
            var listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            return new OneRequestServer(listener, certificate, requireClientCertificate);
        }

        public Task<string> RequestAsync() => _served.WaitAsync(TimeSpan.FromSeconds(10));

        public async ValueTask DisposeAsync()
        {
            _listener.Stop();
            try
            {
                await _served.WaitAsync(TimeSpan.FromSeconds(10));
            }
            catch (Exception ex) when (ex is IOException or SocketException or System.Security.Authentication.AuthenticationException or ObjectDisposedException)
            {
                // The refused-certificate test ends the handshake from the client side.
            }
        }

        private async Task<string> ServeAsync(X509Certificate2 certificate, bool requireClientCertificate)
        {
            using TcpClient client = await _listener.AcceptTcpClientAsync();
            // The client certificate's chain is not the point here, only that the client sends one.
            await using var tls = new SslStream(client.GetStream(), false, (_, presented, _, _) => presented is not null || !requireClientCertificate);
            await tls.AuthenticateAsServerAsync(new SslServerAuthenticationOptions
            {
                ServerCertificate = certificate,
                ClientCertificateRequired = requireClientCertificate,
                ApplicationProtocols = [SslApplicationProtocol.Http11],
            });
            ClientSubject = tls.RemoteCertificate?.Subject;
            var head = new StringBuilder();
            var buffer = new byte[4096];
            while (!head.ToString().Contains("\r\n\r\n", StringComparison.Ordinal))
            {
                int read = await tls.ReadAsync(buffer);
                if (read == 0)
                {
                    break;
                }

                head.Append(Encoding.ASCII.GetString(buffer, 0, read));
            }

            byte[] body = Encoding.UTF8.GetBytes(NodeList);
            await tls.WriteAsync(Encoding.ASCII.GetBytes($"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {body.Length}\r\nConnection: close\r\n\r\n"));
            await tls.WriteAsync(body);
            await tls.FlushAsync();
            return head.ToString();
        }
    }
}
