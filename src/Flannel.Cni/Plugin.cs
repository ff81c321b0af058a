using Flannel.Cni.Commands;

namespace Flannel.Cni;

/// <summary>
/// The flannel CNI plugin: one invocation, one command. Everything the runtime gets back is on stdout (a result,
/// an error object, or nothing); the exit code is 0 exactly when the command succeeded.
/// </summary>
internal sealed class Plugin
{
    private readonly Invocation _invocation;

    public Plugin(CniArgs args, Func<byte[]> stdin, Stream stdout, TextWriter stderr)
    {
        _invocation = new Invocation(args, stdin, stdout, stderr);
    }

    public int Run()
    {
        try
        {
            _invocation.Args.Require("CNI_COMMAND");
            switch (_invocation.Args.Command)
            {
                case "ADD": AddCommand.Run(_invocation); break;
                case "DEL": DelCommand.Run(_invocation); break;
                case "CHECK": CheckCommand.Run(_invocation); break;
                case "GC": GcCommand.Run(_invocation); break;
                case "STATUS": StatusCommand.Run(_invocation); break;
                case "VERSION": VersionCommand.Run(_invocation); break;
                default:
                    throw new CniException(CniErrorCode.InvalidEnvironmentVariables, $"unknown CNI_COMMAND: {_invocation.Args.Command}",
                        "expected ADD, DEL, CHECK, GC, STATUS or VERSION");
            }

            return 0;
        }
        catch (CniException e)
        {
            _invocation.Stdout.Write(CniError.Format(_invocation.ErrorVersion, e));
            return 1;
        }
    }
}
