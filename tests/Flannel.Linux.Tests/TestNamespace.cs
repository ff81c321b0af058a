using System.Security.Cryptography;
using Flannel.Linux.Namespaces;
using Flannel.Linux.Netlink;

namespace Flannel.Linux.Tests;

/// <summary>
/// A throwaway network namespace named <c>fnt-RUNID-NAME</c> with a netlink connection into it; always deleted on dispose.
/// </summary>
public sealed class TestNamespace : IDisposable
{
    /// <summary>One random prefix per test run, so parallel runs never collide.</summary>
    public static readonly string RunId = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(3));

    public TestNamespace(string name)
    {
        Name = $"fnt-{RunId}-{name}";
        Namespace = NetworkNamespace.Create(Name);
        try
        {
            Netlink = Rtnetlink.Open(Namespace);
        }
        catch
        {
            Namespace.Dispose();
            NetworkNamespace.Delete(Name);
            throw;
        }
    }

    public string Name { get; }

    public NetworkNamespace Namespace { get; }

    public Rtnetlink Netlink { get; }

    public static CancellationToken Timeout => new CancellationTokenSource(TimeSpan.FromSeconds(60)).Token;

    public void Dispose()
    {
        Netlink.Dispose();
        Namespace.Dispose();
        NetworkNamespace.Delete(Name);
    }
}
