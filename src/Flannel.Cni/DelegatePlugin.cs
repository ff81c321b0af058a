using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Flannel.Cni.Spawn;

namespace Flannel.Cni;

/// <summary>
/// Runs the delegate plugin as libcni's <c>invoke</c> does: found by type in CNI_PATH, our environment with
/// CNI_COMMAND set, the configuration on stdin, its stderr passed through to ours, its stdout returned.
/// </summary>
internal sealed class DelegatePlugin
{
    private DelegatePlugin(string type, string path)
    {
        Type = type;
        Path = path;
    }

    public string Type { get; }

    public string Path { get; }

    /// <summary>Finds the executable named <paramref name="type"/> in the CNI_PATH directories, first match wins.</summary>
    public static DelegatePlugin Find(string type, string cniPath)
    {
        ArgumentNullException.ThrowIfNull(cniPath);
        if (string.IsNullOrEmpty(type) || type.Contains('/', StringComparison.Ordinal) || type is "." or "..")
        {
            throw new CniException(CniErrorCode.InvalidNetworkConfig, $"invalid delegate type \"{type}\": must be a plugin name, not a path");
        }

        string[] directories = cniPath.Split(':', StringSplitOptions.RemoveEmptyEntries);
        foreach (string directory in directories)
        {
            string candidate = System.IO.Path.Combine(directory, type);
            if (File.Exists(candidate))
            {
                return new DelegatePlugin(type, candidate);
            }
        }

        throw new CniException(CniErrorCode.InvalidEnvironmentVariables,
            $"failed to find plugin \"{type}\" in path [{string.Join(' ', directories)}]",
            $"install the \"{type}\" CNI plugin in one of the CNI_PATH directories, or set delegate.type");
    }

    /// <summary>
    /// Runs <paramref name="command"/>. Success gives the delegate's stdout; failure throws its error object
    /// (code, msg, details passed through, as libcni does) or, when it printed none, an error quoting its exit.
    /// <paramref name="whileRunning"/>, when given, runs once the delegate has its configuration, beside its work.
    /// </summary>
    public byte[] Invoke(string command, byte[] config, CniArgs args, Action? whileRunning = null)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(args);
        var environment = new Dictionary<string, string>(args.Environment, StringComparer.Ordinal)
        {
            ["CNI_COMMAND"] = command,
        };

        byte[] output;
        int exitCode;
        try
        {
            using ChildProcess child = ChildProcess.Start(Path, [Path], environment);
            child.WriteInputAndClose(config);
            whileRunning?.Invoke();
            output = child.ReadOutputToEnd();
            exitCode = child.WaitForExit();
        }
        catch (SpawnException e)
        {
            throw new CniException(CniErrorCode.IoFailure, $"failed to run delegate {Path}: {e.Reason}");
        }
        catch (IOException e)
        {
            throw new CniException(CniErrorCode.IoFailure, $"failed to run delegate {Path}: {e.Message}");
        }

        if (exitCode == 0)
        {
            return output;
        }

        if (CniError.TryParse(output, out CniException? error))
        {
            throw error;
        }

        string text = Encoding.UTF8.GetString(output).Trim();
        throw new CniException(CniErrorCode.Internal,
            $"delegate {Type} {command} failed with exit code {exitCode}",
            text.Length > 0 ? text : "no output on stdout; see the delegate's stderr");
    }

    /// <summary>The highest version below <paramref name="requested"/> that both we and the delegate speak.</summary>
    public string? LowerCommonVersion(string requested, CniArgs args, TextWriter stderr)
    {
        string? best = null;
        foreach (string version in SupportedVersions(requested, args, stderr))
        {
            if (CniVersion.IsSupported(version) && CniVersion.Compare(version, requested) < 0
                && (best is null || CniVersion.Compare(version, best) > 0))
            {
                best = version;
            }
        }

        return best;
    }

    /// <summary>The delegate's VERSION answer; empty (with a note on stderr) when it gives none.</summary>
    public IReadOnlyList<string> SupportedVersions(string requested, CniArgs args, TextWriter stderr)
    {
        ArgumentNullException.ThrowIfNull(stderr);
        var versions = new List<string>();
        try
        {
            byte[] answer = Invoke("VERSION", Encoding.UTF8.GetBytes($"{{\"cniVersion\":\"{requested}\"}}"), args);
            if (JsonNode.Parse(answer)?["supportedVersions"] is JsonArray list)
            {
                foreach (JsonNode? node in list)
                {
                    if (JsonTree.StringOf(node) is { } version)
                    {
                        versions.Add(version);
                    }
                }
            }
        }
        catch (Exception e) when (e is CniException or JsonException)
        {
            stderr.WriteLine($"flannel: delegate {Type} VERSION failed: {e.Message}");
        }

        return versions;
    }
}
