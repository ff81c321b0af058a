using System.Text.Json;
using Flannel.Core.Config;

namespace Flanneld.Backends.Udp;

/// <summary>The udp backend's keys of net-conf's Backend object (upstream <c>pkg/backend/udp/udp_amd64.go</c>).</summary>
public sealed record UdpConfig
{
    public const int DefaultPort = 8285;

    private static readonly string[] Keys = ["Port", "Offload"];

    /// <summary>The UDP port every node listens on and sends to.</summary>
    public int Port { get; init; } = DefaultPort;

    /// <summary>
    /// Flannel.NET only (upstream ignores the key): false forwards one packet per system call, as upstream does, for
    /// comparison and debugging. The default takes TCP super-segments from the TUN and batches datagrams; the wire format
    /// is the same either way.
    /// </summary>
    public bool Offload { get; init; } = true;

    /// <summary>Reads the Backend object (its Type and unknown keys are ignored); empty text gives the defaults.</summary>
    public static UdpConfig Parse(string backendJson)
    {
        ArgumentNullException.ThrowIfNull(backendJson);
        if (string.IsNullOrWhiteSpace(backendJson))
        {
            return new UdpConfig();
        }

        using JsonDocument document = GoJson.ParseObject(backendJson, NetConfigParser.Context);
        var config = new UdpConfig();
        foreach ((string? key, JsonProperty property) in GoJson.Members(document.RootElement, Keys))
        {
            if (key == "Offload")
            {
                config = GoJson.ReadBool(property.Value, NetConfigParser.Context, "Backend.Offload") is { } offload ? config with { Offload = offload } : config;
                continue;
            }

            if (key is null || GoJson.ReadInt(property.Value, NetConfigParser.Context, "Backend.Port") is not { } port)
            {
                continue;
            }

            // Upstream takes 0 and binds a random port, which no peer can know: a silently broken cluster.
            config = port is >= 1 and <= 65535
                ? config with { Port = (int)port }
                : throw GoJson.Error(NetConfigParser.Context, "Backend.Port", property.Value, "must be 1..65535");
        }

        return config;
    }
}
