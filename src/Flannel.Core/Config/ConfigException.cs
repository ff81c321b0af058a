namespace Flannel.Core.Config;

/// <summary>A configuration value is wrong; the message names the key (or flag) and the value.</summary>
public sealed class ConfigException : Exception
{
    public ConfigException()
    {
    }

    public ConfigException(string message)
        : base(message)
    {
    }

    public ConfigException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public ConfigException(string key, string message)
        : base(message)
    {
        Key = key;
    }

    /// <summary>The net-conf key or flag at fault, when there is one.</summary>
    public string? Key { get; }
}
