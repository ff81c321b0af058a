using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.Logging;

namespace Flanneld.Health;

/// <summary>
/// sd_notify(3) without libsystemd: one datagram to the unix socket named by $NOTIFY_SOCKET (a leading '@' names an
/// abstract socket). Does nothing when the variable is unset, as when flanneld does not run under systemd.
/// </summary>
public static class SystemdNotifier
{
    public const string SocketVariable = "NOTIFY_SOCKET";

    /// <summary>Sends <c>READY=1</c>. True when a notification was sent.</summary>
    public static bool NotifyReady(ILogger logger) => Notify("READY=1", Environment.GetEnvironmentVariable(SocketVariable), logger);

    /// <summary>Sends <c>STOPPING=1</c> when shutting down. True when a notification was sent.</summary>
    public static bool NotifyStopping(ILogger logger) => Notify("STOPPING=1", Environment.GetEnvironmentVariable(SocketVariable), logger);

    /// <summary>Sends <paramref name="state"/> (e.g. <c>READY=1</c>, <c>STOPPING=1</c>) to <paramref name="socketPath"/>.</summary>
    public static bool Notify(string state, string? socketPath, ILogger logger)
    {
        if (string.IsNullOrEmpty(socketPath))
        {
            return false;
        }

        // Abstract socket names begin with NUL on the wire; systemd writes them with '@'.
        string path = socketPath[0] == '@' ? "\0" + socketPath[1..] : socketPath;
        try
        {
            using var socket = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
            socket.SendTo(Encoding.UTF8.GetBytes(state), new UnixDomainSocketEndPoint(path));
            HealthLog.Notified(logger, state);
            return true;
        }
        catch (SocketException ex)
        {
            HealthLog.NotifyFailed(logger, socketPath, ex.Message);
            return false;
        }
    }
}
