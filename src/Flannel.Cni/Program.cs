using Flannel.Cni;
using Flannel.Cni.Interop;
using Microsoft.Win32.SafeHandles;

// The runtime execs us once per pod and command: no host, no DI, no logging framework, just the command. The
// standard streams are plain descriptors: Console's would add terminal handling we never need.
CniArgs cniArgs = CniArgs.FromProcess();
using var stdout = new FileDescriptorStream(new SafeFileHandle(1, ownsHandle: false), FileAccess.Write, discardOnBrokenPipe: true);
using var stderr = new StreamWriter(new FileDescriptorStream(new SafeFileHandle(2, ownsHandle: false), FileAccess.Write, discardOnBrokenPipe: true)) { AutoFlush = true };
return new Plugin(cniArgs, ReadStdin, stdout, stderr).Run();

static byte[] ReadStdin()
{
    using var stdin = new FileDescriptorStream(new SafeFileHandle(0, ownsHandle: false), FileAccess.Read);
    return stdin.ReadToEnd();
}
