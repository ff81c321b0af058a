namespace Flannel.Cni;

/// <summary>The CNI_* environment of one invocation, and the whole environment to hand on to the delegate.</summary>
internal sealed class CniArgs
{
    public CniArgs(IReadOnlyDictionary<string, string> environment)
    {
        ArgumentNullException.ThrowIfNull(environment);
        Environment = environment;
    }

    public IReadOnlyDictionary<string, string> Environment { get; }

    public string Command => Get("CNI_COMMAND");

    public string ContainerId => Get("CNI_CONTAINERID");

    public string NetNs => Get("CNI_NETNS");

    public string IfName => Get("CNI_IFNAME");

    public string Path => Get("CNI_PATH");

    public static CniArgs FromProcess()
    {
        var environment = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (System.Collections.DictionaryEntry entry in System.Environment.GetEnvironmentVariables())
        {
            environment[(string)entry.Key] = (string?)entry.Value ?? "";
        }

        return new CniArgs(environment);
    }

    /// <summary>Fails with the spec's code 4 when variables the command needs are unset, naming them all, as skel does.</summary>
    public void Require(params string[] names)
    {
        var missing = new List<string>();
        foreach (string name in names)
        {
            if (Get(name).Length == 0)
            {
                missing.Add(name);
            }
        }

        if (missing.Count > 0)
        {
            throw new CniException(CniErrorCode.InvalidEnvironmentVariables, $"required env variables [{string.Join(' ', missing)}] missing");
        }
    }

    /// <summary>CNI_IFNAME per the spec: not empty, not . or .., under 16 bytes (IFNAMSIZ), no / : or whitespace.</summary>
    public void ValidateIfName()
    {
        string name = IfName;
        bool valid = name.Length > 0 && System.Text.Encoding.UTF8.GetByteCount(name) < 16 && name is not ("." or "..");
        foreach (char c in name)
        {
            valid &= c is not ('/' or ':') && !char.IsWhiteSpace(c);
        }

        if (!valid)
        {
            throw new CniException(CniErrorCode.InvalidEnvironmentVariables, "invalid CNI_IFNAME: must be 1-15 characters without / : or whitespace, and not . or ..", name);
        }
    }

    private string Get(string name) => Environment.TryGetValue(name, out string? value) ? value : "";
}
