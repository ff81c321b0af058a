namespace Flannel.Cni;

/// <summary>
/// A just-written state file that is not yet durable. <see cref="Complete"/> fsyncs it on the calling thread, once:
/// ADD calls it while the delegate runs, so the disk's latency overlaps the delegate's work instead of adding to it.
/// </summary>
internal sealed class PendingSync : IDisposable
{
    private readonly string _path;
    private FileStream? _stream;

    public PendingSync(FileStream stream, string path)
    {
        _stream = stream;
        _path = path;
    }

    /// <summary>Makes the file durable; throws when it could not be. Later calls do nothing.</summary>
    public void Complete()
    {
        if (_stream is null)
        {
            return;
        }

        try
        {
            _stream.Flush(flushToDisk: true);
        }
        catch (IOException e)
        {
            throw new CniException(CniErrorCode.IoFailure, $"failed to fsync {_path}: {e.Message}");
        }
        finally
        {
            Dispose();
        }
    }

    public void Dispose()
    {
        _stream?.Dispose();
        _stream = null;
    }
}
