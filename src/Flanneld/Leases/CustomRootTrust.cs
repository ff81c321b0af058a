using System.Net.Security;
using System.Security.Cryptography.X509Certificates;

namespace Flanneld.Leases;

/// <summary>
/// A server certificate judged against the CA(s) the operator gave (etcd's <c>--etcd-cafile</c>, the kubeconfig's
/// cluster CA) instead of the system roots: a name mismatch or a missing certificate still fails, only the chain is
/// built to the given roots.
/// </summary>
internal static class CustomRootTrust
{
    public static bool ChainsTo(X509Certificate2Collection trusted, X509Certificate? certificate, SslPolicyErrors errors)
    {
        if (certificate is null || (errors & ~SslPolicyErrors.RemoteCertificateChainErrors) != SslPolicyErrors.None)
        {
            return false;
        }

        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(trusted);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        using X509Certificate2 server = X509CertificateLoader.LoadCertificate(certificate.GetRawCertData());
        return chain.Build(server);
    }
}
