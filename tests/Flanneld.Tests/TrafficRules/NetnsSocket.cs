using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace Flanneld.Tests.TrafficRules;

/// <summary>
/// Opens a socket inside a named network namespace: a dedicated thread enters the namespace, creates the socket and
/// ends. A socket stays in the namespace it was created in, so the test can then use it from any thread.
/// </summary>
internal static partial class NetnsSocket
{
    private const int CloneNewNet = 0x40000000;

    public static Socket Udp(string netns)
    {
        Socket? socket = null;
        Exception? failure = null;
        var thread = new Thread(() =>
        {
            try
            {
                using Microsoft.Win32.SafeHandles.SafeFileHandle handle = File.OpenHandle($"/var/run/netns/{netns}");
                if (SetNs((int)handle.DangerousGetHandle(), CloneNewNet) != 0)
                {
                    throw new InvalidOperationException($"setns({netns}) failed: errno {Marshal.GetLastPInvokeError()}");
                }

                socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
            }
            catch (Exception ex)
            {
                failure = ex;
            }
        });
        thread.Start();
        thread.Join();
        return socket ?? throw new InvalidOperationException($"Could not open a socket in {netns}.", failure);
    }

    [DllImport("libc", EntryPoint = "setns", SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static extern int SetNs(int fd, int nstype);
}
