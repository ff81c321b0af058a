using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using Flannel.Cni.Interop;
using Flannel.Cni.Spawn;

namespace Flannel.Cni.Tests.Spawn;

/// <summary>Real programs (/bin/sh, cat, env, grep) spawned through posix_spawn.</summary>
public sealed class ChildProcessTests : IDisposable
{
    private static readonly Dictionary<string, string> NoEnvironment = new(StringComparer.Ordinal);
    private readonly string _root = Directory.CreateTempSubdirectory("fnt-cni-spawn-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private static (int Exit, string Stdout) Run(string path, string[] argv, IEnumerable<KeyValuePair<string, string>>? environment = null, string stdin = "")
    {
        using ChildProcess child = ChildProcess.Start(path, argv, environment ?? NoEnvironment);
        child.WriteInputAndClose(Encoding.UTF8.GetBytes(stdin));
        string stdout = Encoding.UTF8.GetString(child.ReadOutputToEnd());
        return (child.WaitForExit(), stdout);
    }

    [Fact]
    public void WaitForExit_ChildExits3_Returns3()
    {
        Assert.Equal(3, Run("/bin/sh", ["sh", "-c", "exit 3"]).Exit);
    }

    [Fact]
    public void WaitForExit_ChildKilledBySignal_128PlusSignal()
    {
        Assert.Equal(128 + 9, Run("/bin/sh", ["sh", "-c", "kill -9 $$"]).Exit);
    }

    [Fact]
    public void ReadOutputToEnd_ChildPrints_StdoutCaptured()
    {
        Assert.Equal((0, "hello\n"), Run("/bin/sh", ["sh", "-c", "echo hello; echo not-captured >&2"]));
    }

    [Fact]
    public void ReadOutputToEnd_OutputLargerThanAPipe_AllOfIt()
    {
        (int exit, string stdout) = Run("/bin/sh", ["sh", "-c", "head -c 300000 /dev/zero | tr '\\0' x"]);
        Assert.Equal(0, exit);
        Assert.Equal(new string('x', 300000), stdout);
    }

    [Fact]
    public void WriteInputAndClose_Cat_EchoesStdin()
    {
        string input = string.Concat(Enumerable.Repeat("{\"cniVersion\":\"1.0.0\"}\n", 200));
        Assert.Equal((0, input), Run("/bin/cat", ["cat"], stdin: input));
    }

    [Fact]
    public void WriteInputAndClose_ChildExitsWithoutReading_NoError()
    {
        // 1 MB does not fit in the pipe: the write meets EPIPE once /bin/true has exited, which is not our failure.
        Assert.Equal((0, ""), Run("/bin/true", ["true"], stdin: new string('x', 1 << 20)));
    }

    [Fact]
    public void Start_Environment_ExactlyTheGivenVariables()
    {
        var environment = new Dictionary<string, string>(StringComparer.Ordinal) { ["CNI_COMMAND"] = "ADD", ["A"] = "x=y é" };
        (int exit, string stdout) = Run("/usr/bin/env", ["env"], environment);
        Assert.Equal(0, exit);
        Assert.Equal(["A=x=y é", "CNI_COMMAND=ADD"], stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Start_Argv_PassedAsGiven()
    {
        // cat prints its own command line: argv[0] as given, not the path.
        Assert.Equal((0, "plugin-name\0/proc/self/cmdline\0"), Run("/bin/cat", ["plugin-name", "/proc/self/cmdline"]));
    }

    [Fact]
    public void Start_RuntimeIgnoresSigpipe_ChildHasItAtDefault()
    {
        // .NET ignores SIGPIPE in its own process; an ignored disposition survives exec, so we reset it.
        (int exit, string stdout) = Run("/bin/grep", ["grep", "SigIgn", "/proc/self/status"]);
        Assert.Equal(0, exit);
        ulong ignored = ulong.Parse(stdout.Split(':')[1].Trim(), NumberStyles.HexNumber, CultureInfo.InvariantCulture);
        Assert.Equal(0UL, ignored & (1UL << (Libc.SIGPIPE - 1)));
    }

    [Fact]
    public void Start_MissingBinary_SpawnExceptionEnoent()
    {
        string path = Path.Combine(_root, "no-such-plugin");
        SpawnException e = Assert.Throws<SpawnException>(() => ChildProcess.Start(path, [path], NoEnvironment));
        Assert.Equal(2, e.Errno);
        Assert.Equal("No such file or directory", e.Reason);
        Assert.Equal(path, e.Path);
    }

    [Fact]
    public void Start_NotExecutable_SpawnExceptionEacces()
    {
        string path = Path.Combine(_root, "plugin");
        File.WriteAllText(path, "#!/bin/sh\n");
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        Assert.Equal(13, Assert.Throws<SpawnException>(() => ChildProcess.Start(path, [path], NoEnvironment)).Errno);
    }

    [Fact]
    public void Dispose_NotWaitedFor_ChildReaped()
    {
        int pid;
        using (ChildProcess child = ChildProcess.Start("/bin/true", ["true"], NoEnvironment))
        {
            pid = child.Id;
        }

        // No zombie left: the pid is no longer our child.
        Assert.Equal(-1, Libc.WaitPid(pid, out _, 1));
        Assert.Equal(10, Marshal.GetLastPInvokeError());
    }
}
