namespace Flannel.Core.Config;

/// <summary>Parses and validates net-conf.json as upstream does.</summary>
public static class NetConfigParser
{
    public static NetConfig Parse(string json)
    {
        ArgumentNullException.ThrowIfNull(json);
        throw new NotImplementedException("NetConfigParser is being written (config helper).");
    }
}
