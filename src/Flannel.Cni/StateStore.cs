namespace Flannel.Cni;

/// <summary>
/// The rendered delegate configurations, one file per container: <c>dataDir/&lt;containerID&gt;</c> (directory
/// 0700, files 0600), as upstream keeps them, so either plugin can DEL what the other ADDed.
/// </summary>
internal sealed class StateStore
{
    private const UnixFileMode DirectoryMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
    private const UnixFileMode FileMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    private const string TemporarySuffix = ".flannel-tmp";

    // A leading '.' is outside the container-id grammar: no container's state can have such a name.
    private const string DiscardedPrefix = ".deleted-";

    public StateStore(string dataDir)
    {
        ArgumentException.ThrowIfNullOrEmpty(dataDir);
        DataDir = Path.GetFullPath(dataDir);
    }

    public string DataDir { get; }

    /// <summary>
    /// The state file of a container. The id is checked against the spec's grammar, and the path must stay a direct
    /// child of the data directory, so no id can name a file elsewhere.
    /// </summary>
    public string PathOf(string containerId)
    {
        ContainerId.Validate(containerId);
        string path = Path.GetFullPath(Path.Combine(DataDir, containerId));
        if (!string.Equals(Path.GetDirectoryName(path), DataDir.TrimEnd('/'), StringComparison.Ordinal) || DataDir == "/")
        {
            throw new CniException(CniErrorCode.InvalidEnvironmentVariables, "CNI_CONTAINERID would leave the data directory", containerId);
        }

        return path;
    }

    /// <summary>
    /// Writes the file whole (temporary file renamed into place, so a crash never leaves half of it); the caller makes
    /// it durable with <see cref="PendingSync.Complete"/> (an fsync, ~2-4 ms on a disk) while the delegate runs.
    /// The rename precedes the fsync so that one journal commit carries both.
    /// </summary>
    public PendingSync Save(string containerId, ReadOnlySpan<byte> config)
    {
        string path = PathOf(containerId);
        string temporary = path + TemporarySuffix;
        FileStream? stream = null;
        try
        {
            if (!Directory.Exists(DataDir))
            {
                Directory.CreateDirectory(DataDir, DirectoryMode);
            }

            stream = new FileStream(temporary, new FileStreamOptions
            {
                Mode = System.IO.FileMode.Create,
                Access = FileAccess.Write,
                UnixCreateMode = FileMode,
            });
            stream.Write(config);
            stream.Flush();
            File.Move(temporary, path, overwrite: true);
            return new PendingSync(stream, path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            stream?.Dispose();
            TryDelete(temporary);
            throw new CniException(CniErrorCode.IoFailure, $"failed to save the delegate configuration to {path}: {e.Message}");
        }
    }

    /// <summary>The saved configuration, or null when there is none.</summary>
    public byte[]? Read(string containerId)
    {
        string path = PathOf(containerId);
        try
        {
            return File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CniException(CniErrorCode.IoFailure, $"failed to read the delegate configuration {path}: {e.Message}");
        }
    }

    public void Remove(string containerId)
    {
        string path = PathOf(containerId);
        try
        {
            File.Delete(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CniException(CniErrorCode.IoFailure, $"failed to remove {path}: {e.Message}");
        }
    }

    /// <summary>
    /// Takes a container's state out of use once its delegate DEL succeeded: renamed aside at once, its block freed by
    /// a later DEL (<see cref="PurgeDiscarded"/>). Unlinking it here would free the block right after the delegate's
    /// work, and on a filesystem mounted with <c>discard</c> that waits for the disk's TRIM (~0.3 ms here, several ms
    /// under other I/O). A crash leaves the state either in place (DEL is retried) or aside (it is gone).
    /// </summary>
    public void Discard(string containerId)
    {
        string path = PathOf(containerId);
        try
        {
            File.Move(path, Path.Combine(DataDir, DiscardedPrefix + containerId), overwrite: true);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            // Already gone: nothing to discard.
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CniException(CniErrorCode.IoFailure, $"failed to remove {path}: {e.Message}");
        }
    }

    /// <summary>Removes the state that earlier DELs set aside; best effort (what stays is removed next time).</summary>
    public void PurgeDiscarded()
    {
        try
        {
            foreach (string path in Directory.EnumerateFiles(DataDir, DiscardedPrefix + "*"))
            {
                TryDelete(path);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // No data directory, or not readable: nothing to purge now.
        }
    }

    /// <summary>The container ids that have state (file names that are valid container ids).</summary>
    public IReadOnlyList<string> ContainerIds()
    {
        var ids = new List<string>();
        if (!Directory.Exists(DataDir))
        {
            return ids;
        }

        foreach (string path in Directory.EnumerateFiles(DataDir))
        {
            string name = Path.GetFileName(path);
            if (ContainerId.IsValid(name) && !name.EndsWith(TemporarySuffix, StringComparison.Ordinal))
            {
                ids.Add(name);
            }
        }

        return ids;
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // A stray temporary or discarded file is harmless: GC skips it, and a later purge retries the latter.
        }
    }
}
