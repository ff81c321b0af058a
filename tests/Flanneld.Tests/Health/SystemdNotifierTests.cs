using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using Flanneld.Health;
using Microsoft.Extensions.Logging.Abstractions;

namespace Flanneld.Tests.Health;

public class SystemdNotifierTests
{
    private static string Receive(Socket socket)
    {
        socket.ReceiveTimeout = 5000;
        byte[] buffer = new byte[256];
        int received = socket.Receive(buffer);
        return Encoding.UTF8.GetString(buffer, 0, received);
    }

    [Fact]
    public void Notify_PathSocket_SendsReady()
    {
        string path = Path.Combine(Path.GetTempPath(), $"fnt-{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(3))}-notify.sock");
        using var socket = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
        socket.Bind(new UnixDomainSocketEndPoint(path));
        try
        {
            Assert.True(SystemdNotifier.Notify("READY=1", path, NullLogger.Instance));
            Assert.Equal("READY=1", Receive(socket));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Notify_AbstractSocket_SendsReady()
    {
        string name = $"fnt-{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(3))}-notify";
        using var socket = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
        socket.Bind(new UnixDomainSocketEndPoint("\0" + name));

        Assert.True(SystemdNotifier.Notify("READY=1", "@" + name, NullLogger.Instance));
        Assert.Equal("READY=1", Receive(socket));
    }

    [Fact]
    public void NotifyReady_NotifySocketVariable_SendsReadyThere()
    {
        string name = $"fnt-{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(3))}-notify-env";
        using var socket = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
        socket.Bind(new UnixDomainSocketEndPoint("\0" + name));
        Environment.SetEnvironmentVariable(SystemdNotifier.SocketVariable, "@" + name);
        try
        {
            Assert.True(SystemdNotifier.NotifyReady(NullLogger.Instance));
            Assert.Equal("READY=1", Receive(socket));
        }
        finally
        {
            Environment.SetEnvironmentVariable(SystemdNotifier.SocketVariable, null);
        }
    }

    [Fact]
    public void Notify_NoSocket_DoesNothing()
    {
        Assert.False(SystemdNotifier.Notify("READY=1", null, NullLogger.Instance));
        Assert.False(SystemdNotifier.Notify("READY=1", string.Empty, NullLogger.Instance));
    }

    [Fact]
    public void Notify_NobodyListening_ReturnsFalse()
    {
        Assert.False(SystemdNotifier.Notify("READY=1", "/nonexistent/fnt-notify.sock", NullLogger.Instance));
    }
}
