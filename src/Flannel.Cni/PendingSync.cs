namespace Flannel.Cni;

/// <summary>An fsync of a just-written state file, running on its own thread until <see cref="Wait"/>.</summary>
internal sealed class PendingSync
{
    private readonly FileStream _stream;
    private readonly string _path;
    private readonly Thread _thread;
    private Exception? _failure;

    public PendingSync(FileStream stream, string path)
    {
        _stream = stream;
        _path = path;
        _thread = new Thread(Sync) { IsBackground = true, Name = "fsync" };
        _thread.Start();
    }

    /// <summary>Joins the fsync; throws when the file could not be made durable.</summary>
    public void Wait()
    {
        _thread.Join();
        if (_failure is not null)
        {
            throw new CniException(CniErrorCode.IoFailure, $"failed to fsync {_path}: {_failure.Message}");
        }
    }

    private void Sync()
    {
        try
        {
            _stream.Flush(flushToDisk: true);
        }
        catch (IOException e)
        {
            _failure = e;
        }
        finally
        {
            _stream.Dispose();
        }
    }
}
