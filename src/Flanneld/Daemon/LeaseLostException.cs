namespace Flanneld.Daemon;

/// <summary>This node's subnet now belongs to another node (or could not be taken back): the daemon must stop using it.</summary>
public sealed class LeaseLostException : Exception
{
    public LeaseLostException()
    {
    }

    public LeaseLostException(string message)
        : base(message)
    {
    }

    public LeaseLostException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
