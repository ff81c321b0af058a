using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using Flannel.Lab;
using Flannel.Linux.Namespaces;

namespace Flannel.EndToEnd.Tests;

/// <summary>TCP sockets created inside pod namespaces (a socket stays in the namespace it was made in), used from the test.</summary>
internal static class PodSockets
{
    public static Socket Create(LabPod pod)
    {
        using NetworkNamespace ns = NetworkNamespace.Open(pod.Namespace);
        return ns.Run(() => new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp));
    }

    /// <summary>A connected pair: client in <paramref name="from"/>, accepted server side in <paramref name="to"/>.</summary>
    public static async Task<(Socket Client, Socket Server)> ConnectAsync(LabPod from, LabPod to, int port)
    {
        using Socket listener = Create(to);
        listener.Bind(new IPEndPoint(IPAddress.Parse(to.Address), port));
        listener.Listen(1);
        Socket client = Create(from);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        ValueTask<Socket> accept = listener.AcceptAsync(timeout.Token);
        await client.ConnectAsync(new IPEndPoint(IPAddress.Parse(to.Address), port), timeout.Token);
        return (client, await accept);
    }

    /// <summary>Sends <paramref name="bytes"/> random bytes and checks the SHA-256 of what arrived.</summary>
    public static async Task<bool> TransferIntactAsync(Socket client, Socket server, int bytes)
    {
        byte[] data = RandomNumberGenerator.GetBytes(bytes);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        Task send = client.SendAsync(data, SocketFlags.None, timeout.Token).AsTask();
        byte[] received = new byte[bytes];
        int total = 0;
        while (total < bytes)
        {
            int n = await server.ReceiveAsync(received.AsMemory(total), SocketFlags.None, timeout.Token);
            if (n == 0)
            {
                return false;
            }

            total += n;
        }

        await send;
        return SHA256.HashData(data).AsSpan().SequenceEqual(SHA256.HashData(received));
    }
}
