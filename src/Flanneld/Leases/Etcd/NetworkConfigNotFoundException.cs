namespace Flanneld.Leases.Etcd;

/// <summary>The config key is absent: the daemon waits for an operator to write it (upstream retries every second).</summary>
public sealed class NetworkConfigNotFoundException : Exception
{
    public NetworkConfigNotFoundException()
    {
        Key = string.Empty;
    }

    public NetworkConfigNotFoundException(string key)
        : base($"flannel config not found in etcd store at {key}. Did you create your config using the etcd v3 API (etcdctl put {key} '<net-conf.json>')?")
    {
        Key = key;
    }

    public NetworkConfigNotFoundException(string message, Exception innerException)
        : base(message, innerException)
    {
        Key = string.Empty;
    }

    public string Key { get; }
}
