namespace Flanneld.Leases.Etcd;

/// <summary>Every subnet the config offers is held (or reserved) by other nodes.</summary>
public sealed class OutOfSubnetsException : Exception
{
    public OutOfSubnetsException()
    {
    }

    public OutOfSubnetsException(string message)
        : base(message)
    {
    }

    public OutOfSubnetsException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
