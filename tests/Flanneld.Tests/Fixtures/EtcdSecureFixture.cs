using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Etcdserverpb;

namespace Flanneld.Tests.Fixtures;

/// <summary>
/// etcd over TLS that requires client certificates, with authentication on: user <see cref="User"/> (role root)
/// with <see cref="Password"/>. The client certificate's common name is no etcd user, so a request without a
/// password token is refused. Certificates are made in-process: a CA, a server certificate for 127.0.0.1 and a
/// client certificate.
/// </summary>
public sealed class EtcdSecureFixture : EtcdFixture
{
    public const string User = "root";

    public const string Password = "fnt-secret-pw";

    public string CaFile => Path.Combine(Dir, "ca.pem");

    public string CertFile => Path.Combine(Dir, "client.pem");

    public string KeyFile => Path.Combine(Dir, "client.key");

    protected override string Scheme => "https";

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        var auth = new Auth.AuthClient(Channel);
        await auth.UserAddAsync(new AuthUserAddRequest { Name = User, Password = Password });
        await auth.UserGrantRoleAsync(new AuthUserGrantRoleRequest { User = User, Role = "root" });
        await auth.AuthEnableAsync(new AuthEnableRequest());
    }

    protected override void Prepare()
    {
        using var caKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var caRequest = new CertificateRequest("CN=fnt-etcd-ca", caKey, HashAlgorithmName.SHA256);
        caRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        caRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        DateTimeOffset now = DateTimeOffset.UtcNow;
        using X509Certificate2 ca = caRequest.CreateSelfSigned(now.AddMinutes(-5), now.AddDays(1));
        File.WriteAllText(CaFile, ca.ExportCertificatePem());

        Issue(ca, "CN=127.0.0.1", "1.3.6.1.5.5.7.3.1", Path.Combine(Dir, "server.pem"), Path.Combine(Dir, "server.key"));
        Issue(ca, "CN=fnt-flannel-node", "1.3.6.1.5.5.7.3.2", CertFile, KeyFile);
    }

    protected override IEnumerable<string> ExtraArguments() =>
    [
        "--cert-file", Path.Combine(Dir, "server.pem"),
        "--key-file", Path.Combine(Dir, "server.key"),
        "--trusted-ca-file", CaFile,
        "--client-cert-auth",
    ];

    protected override HttpMessageHandler CreateHandler()
    {
        var trusted = new X509Certificate2Collection();
        trusted.ImportFromPemFile(CaFile);
        var handler = new SocketsHttpHandler();
        handler.SslOptions.ClientCertificates = [X509Certificate2.CreateFromPemFile(CertFile, KeyFile)];
        handler.SslOptions.RemoteCertificateValidationCallback = (_, certificate, _, _) =>
        {
            using var chain = new X509Chain();
            chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
            chain.ChainPolicy.CustomTrustStore.AddRange(trusted);
            chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
            return certificate is X509Certificate2 c && chain.Build(c);
        };
        return handler;
    }

    private static void Issue(X509Certificate2 ca, string subject, string usageOid, string certFile, string keyFile)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid(usageOid)], false));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyAgreement, false));
        DateTimeOffset now = DateTimeOffset.UtcNow;
        using X509Certificate2 cert = request.Create(ca, now.AddMinutes(-5), now.AddHours(23), RandomNumberGenerator.GetBytes(8));
        File.WriteAllText(certFile, cert.ExportCertificatePem());
        File.WriteAllText(keyFile, key.ExportPkcs8PrivateKeyPem());
    }
}
