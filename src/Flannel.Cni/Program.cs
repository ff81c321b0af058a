using Flannel.Cni;

// The runtime execs us once per pod and command: no host, no DI, no logging framework, just the command.
CniArgs cniArgs = CniArgs.FromProcess();
using Stream stdout = Console.OpenStandardOutput();
return new Plugin(cniArgs, ReadStdin, stdout, Console.Error).Run();

static byte[] ReadStdin()
{
    using Stream stdin = Console.OpenStandardInput();
    using var buffer = new MemoryStream();
    stdin.CopyTo(buffer);
    return buffer.ToArray();
}
