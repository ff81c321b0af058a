namespace Flanneld.TrafficRules;

/// <summary>
/// What flannel wants installed for one address family: masquerade rules for a network and this node's pod subnet,
/// forward rules for a network, or both. CIDRs are canonical text (<c>198.18.0.0/16</c>).
/// </summary>
public sealed record FamilyRules(IpFamily Family)
{
    public string? MasqNetwork { get; init; }

    public string? MasqPodCidr { get; init; }

    public string? ForwardNetwork { get; init; }

    public bool HasMasq => MasqNetwork is not null && MasqPodCidr is not null;

    public bool HasForward => ForwardNetwork is not null;

    public string MulticastCidr => Family == IpFamily.V4 ? "224.0.0.0/4" : "ff00::/8";
}
