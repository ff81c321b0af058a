using System.Runtime.InteropServices;
using System.Text;
using Flannel.Cni.Interop;
using Microsoft.Win32.SafeHandles;

namespace Flannel.Cni.Spawn;

/// <summary>
/// A program run with posix_spawn, its stdin and stdout pipes to us and its stderr ours. Costs one vfork-style clone
/// and exec: unlike System.Diagnostics.Process it starts no threads and installs no SIGCHLD handling, which is most
/// of a short-lived plugin's cost of running its delegate. Disposing closes the pipes and reaps the child.
/// </summary>
internal sealed class ChildProcess : IDisposable
{
    private readonly FileDescriptorStream _stdin;
    private readonly FileDescriptorStream _stdout;
    private int? _exitCode;

    private ChildProcess(int id, SafeFileHandle stdin, SafeFileHandle stdout)
    {
        Id = id;
        _stdin = new FileDescriptorStream(stdin, FileAccess.Write);
        _stdout = new FileDescriptorStream(stdout, FileAccess.Read);
    }

    public int Id { get; }

    /// <summary>
    /// Starts <paramref name="path"/> with <paramref name="argv"/> (argv[0] included) and exactly
    /// <paramref name="environment"/>. Throws <see cref="SpawnException"/> when it cannot be run (exec's errno).
    /// </summary>
    public static ChildProcess Start(string path, IReadOnlyList<string> argv, IEnumerable<KeyValuePair<string, string>> environment)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(argv);
        ArgumentNullException.ThrowIfNull(environment);
        (SafeFileHandle childStdin, SafeFileHandle stdin) = CreatePipe();
        SafeFileHandle? childStdout = null;
        SafeFileHandle? stdout = null;
        try
        {
            (stdout, childStdout) = CreatePipe();
            int id = Spawn(path, argv, environment, childStdin, childStdout);
            return new ChildProcess(id, stdin, stdout);
        }
        catch
        {
            stdin.Dispose();
            stdout?.Dispose();
            throw;
        }
        finally
        {
            // The child has its own copies as fds 0 and 1; ours would keep its stdout open past its exit.
            childStdin.Dispose();
            childStdout?.Dispose();
        }
    }

    /// <summary>Writes all of <paramref name="data"/> to the child's stdin and closes it. A child that exits without reading is not an error here.</summary>
    public void WriteInputAndClose(ReadOnlySpan<byte> data)
    {
        try
        {
            _stdin.Write(data);
        }
        catch (IOException e) when (e.HResult == Libc.EPIPE)
        {
            // Its exit status and stdout say why.
        }
        finally
        {
            _stdin.Dispose();
        }
    }

    /// <summary>Reads the child's stdout until it closes it (normally: exits).</summary>
    public byte[] ReadOutputToEnd() => _stdout.ReadToEnd();

    /// <summary>Waits for the child to exit and reaps it: its exit code, or 128 + the signal that killed it (as a shell reports it).</summary>
    public int WaitForExit()
    {
        if (_exitCode is { } known)
        {
            return known;
        }

        int status;
        while (Libc.WaitPid(Id, out status, 0) < 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            if (errno != Libc.EINTR)
            {
                throw Libc.Failure($"waitpid({Id})", errno);
            }
        }

        int signal = status & 0x7f;
        _exitCode = signal == 0 ? (status >> 8) & 0xff : 128 + signal;
        return _exitCode.Value;
    }

    public void Dispose()
    {
        _stdin.Dispose();
        _stdout.Dispose();
        if (_exitCode is null)
        {
            // With both pipes closed a well-behaved child finishes; reaping it leaves no zombie behind.
            WaitForExit();
        }
    }

    private static (SafeFileHandle Read, SafeFileHandle Write) CreatePipe()
    {
        Span<int> fds = stackalloc int[2];
        if (Libc.Pipe2(fds, Libc.O_CLOEXEC) != 0)
        {
            throw Libc.Failure("pipe2", Marshal.GetLastPInvokeError());
        }

        return (new SafeFileHandle(fds[0], ownsHandle: true), new SafeFileHandle(fds[1], ownsHandle: true));
    }

    /// <summary>The pipe ends are the caller's: open until posix_spawn returns, when the child has its own copies.</summary>
    private static unsafe int Spawn(string path, IReadOnlyList<string> argv, IEnumerable<KeyValuePair<string, string>> environment, SafeFileHandle stdin, SafeFileHandle stdout)
    {
        var strings = new List<string>(argv.Count + 32) { path };
        strings.AddRange(argv);
        foreach (KeyValuePair<string, string> variable in environment)
        {
            strings.Add(variable.Key + "=" + variable.Value);
        }

        // Every string NUL-terminated in one block, pinned while posix_spawn copies them into the child.
        int[] offsets = new int[strings.Count];
        int size = 0;
        for (int i = 0; i < strings.Count; i++)
        {
            offsets[i] = size;
            size += Encoding.UTF8.GetByteCount(strings[i]) + 1;
        }

        byte[] block = new byte[size];
        for (int i = 0; i < strings.Count; i++)
        {
            Encoding.UTF8.GetBytes(strings[i], block.AsSpan(offsets[i]));
        }

        Span<byte> actions = stackalloc byte[Libc.OpaqueSize];
        Span<byte> attributes = stackalloc byte[Libc.OpaqueSize];
        Span<byte> noSignals = stackalloc byte[Libc.OpaqueSize];
        Span<byte> pipeSignal = stackalloc byte[Libc.OpaqueSize];
        Check(Libc.FileActionsInit(actions), "posix_spawn_file_actions_init");
        try
        {
            Check(Libc.AttrInit(attributes), "posix_spawnattr_init");
            try
            {
                Check(Libc.FileActionsAddDup2(actions, (int)stdin.DangerousGetHandle(), 0), "posix_spawn_file_actions_adddup2");
                Check(Libc.FileActionsAddDup2(actions, (int)stdout.DangerousGetHandle(), 1), "posix_spawn_file_actions_adddup2");

                // The child starts with no signal blocked, and SIGPIPE, which the .NET runtime ignores, back at its default.
                Check(Libc.SigEmptySet(noSignals), "sigemptyset");
                Check(Libc.SigEmptySet(pipeSignal), "sigemptyset");
                Check(Libc.SigAddSet(pipeSignal, Libc.SIGPIPE), "sigaddset");
                Check(Libc.AttrSetSigMask(attributes, noSignals), "posix_spawnattr_setsigmask");
                Check(Libc.AttrSetSigDefault(attributes, pipeSignal), "posix_spawnattr_setsigdefault");
                Check(Libc.AttrSetFlags(attributes, Libc.POSIX_SPAWN_SETSIGMASK | Libc.POSIX_SPAWN_SETSIGDEF), "posix_spawnattr_setflags");

                int environmentCount = strings.Count - 1 - argv.Count;
                nint[] pointers = new nint[argv.Count + 1 + environmentCount + 1];
                int error;
                int pid;
                fixed (byte* first = block)
                fixed (nint* argvTable = pointers)
                {
                    for (int i = 0; i < argv.Count; i++)
                    {
                        argvTable[i] = (nint)(first + offsets[1 + i]);
                    }

                    nint* envpTable = argvTable + argv.Count + 1;
                    for (int i = 0; i < environmentCount; i++)
                    {
                        envpTable[i] = (nint)(first + offsets[1 + argv.Count + i]);
                    }

                    error = Libc.PosixSpawn(out pid, first, actions, attributes, (byte**)argvTable, (byte**)envpTable);
                }

                return error == 0 ? pid : throw new SpawnException(path, error);
            }
            finally
            {
                Libc.AttrDestroy(attributes);
            }
        }
        finally
        {
            Libc.FileActionsDestroy(actions);
        }
    }

    /// <summary>The posix_spawn helpers return 0 or an error number (the sig*set ones -1 and errno).</summary>
    private static void Check(int result, string what)
    {
        if (result != 0)
        {
            throw Libc.Failure(what, result > 0 ? result : Marshal.GetLastPInvokeError());
        }
    }
}
