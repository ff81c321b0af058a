namespace Flanneld.TrafficRules;

/// <summary>The address family a rule set belongs to.</summary>
public enum IpFamily
{
    V4,
    V6,
}
