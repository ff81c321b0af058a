namespace Flanneld.Tests.Deploy;

/// <summary>Finds files of the repository from the test's output directory.</summary>
internal static class RepoPaths
{
    public static string Root
    {
        get
        {
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            {
                if (System.IO.File.Exists(Path.Combine(dir.FullName, "Flannel.slnx")))
                {
                    return dir.FullName;
                }
            }

            throw new DirectoryNotFoundException($"no Flannel.slnx above {AppContext.BaseDirectory}");
        }
    }

    public static string InRepo(string relative) => Path.Combine(Root, relative);

    /// <summary>FLANNEL_BIN_DIR, else &lt;repo&gt;/artifacts/bin (where scripts/publish.sh writes).</summary>
    public static string BinDir => Environment.GetEnvironmentVariable("FLANNEL_BIN_DIR") is { Length: > 0 } dir ? dir : InRepo("artifacts/bin");
}
