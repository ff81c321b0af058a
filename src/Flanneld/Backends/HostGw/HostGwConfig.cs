using System.Text.Json;
using Flannel.Core.Config;

namespace Flanneld.Backends.HostGw;

/// <summary>The host-gw backend has no keys of its own; parsing only checks that Backend is a JSON object.</summary>
public sealed record HostGwConfig
{
    /// <summary>Accepts any Backend object (Type and unknown keys are ignored); empty text is fine.</summary>
    public static HostGwConfig Parse(string backendJson)
    {
        ArgumentNullException.ThrowIfNull(backendJson);
        if (!string.IsNullOrWhiteSpace(backendJson))
        {
            using JsonDocument document = GoJson.ParseObject(backendJson, NetConfigParser.Context);
        }

        return new HostGwConfig();
    }
}
