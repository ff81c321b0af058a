using System.Text.Json;
using Flannel.Core.Config;

namespace Flanneld.Backends.Alloc;

/// <summary>The alloc backend (lease a subnet, move no packets) has no keys; parsing only checks that Backend is an object.</summary>
public sealed record AllocConfig
{
    /// <summary>Accepts any Backend object (Type and unknown keys are ignored); empty text is fine.</summary>
    public static AllocConfig Parse(string backendJson)
    {
        ArgumentNullException.ThrowIfNull(backendJson);
        if (!string.IsNullOrWhiteSpace(backendJson))
        {
            using JsonDocument document = GoJson.ParseObject(backendJson, NetConfigParser.Context);
        }

        return new AllocConfig();
    }
}
