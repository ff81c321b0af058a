using Flannel.Core.Config;
using Flanneld.Backends;
using Flannel.Linux.Interfaces;

namespace Flanneld.Daemon;

/// <summary>Chooses the underlay interface and public addresses (upstream's LookupExtIface).</summary>
public interface IExternalInterfaceResolver
{
    Task<ExternalInterface> ResolveAsync(NetConfig config, CancellationToken cancellationToken);
}
