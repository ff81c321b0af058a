namespace Flannel.Cni;

/// <summary>
/// One run of the plugin as the commands see it: the CNI_* environment, stdin read on demand, stdout for the result,
/// stderr for notes, and the version the error object will carry (the configuration's, once it is known good).
/// </summary>
internal sealed class Invocation
{
    private readonly Func<byte[]> _stdin;

    public Invocation(CniArgs args, Func<byte[]> stdin, Stream stdout, TextWriter stderr)
    {
        Args = args;
        _stdin = stdin;
        Stdout = stdout;
        Stderr = stderr;
    }

    public CniArgs Args { get; }

    public Stream Stdout { get; }

    public TextWriter Stderr { get; }

    public string ErrorVersion { get; private set; } = CniVersion.Latest;

    /// <summary>Reads the configuration on stdin and holds it to the versions we speak, as skel does first.</summary>
    public NetConf ReadConf()
    {
        NetConf conf = NetConf.Parse(_stdin());
        if (!CniVersion.IsSupported(conf.Version))
        {
            throw new CniException(CniErrorCode.IncompatibleVersion, "incompatible CNI versions",
                $"config is \"{conf.Version}\", plugin supports [{string.Join(' ', CniVersion.Supported)}]");
        }

        ErrorVersion = conf.Version;
        return conf;
    }

    public static void RequireVersion(NetConf conf, string minimum, string command)
    {
        ArgumentNullException.ThrowIfNull(conf);
        if (!CniVersion.AtLeast(conf.Version, minimum))
        {
            throw new CniException(CniErrorCode.IncompatibleVersion, $"config version does not allow {command}",
                $"config is \"{conf.Version}\", {command} needs {minimum} or later");
        }
    }
}
