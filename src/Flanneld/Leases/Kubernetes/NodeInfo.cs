namespace Flanneld.Leases.Kubernetes;

/// <summary>
/// The few fields of a Node that flannel uses: name, uid, resourceVersion, spec.podCIDR(s), and the annotations under
/// our prefix. Everything else in the object (status, images, managedFields) is skipped while parsing, never held.
/// <see cref="HasSpec"/> is false when the server sent only metadata (a PartialObjectMetadata watch).
/// </summary>
internal sealed record NodeInfo(
    string Name,
    string ResourceVersion,
    string PodCidr,
    IReadOnlyList<string> PodCidrs,
    IReadOnlyDictionary<string, string> Annotations,
    string Uid = "",
    bool HasSpec = true)
{
    public string? Annotation(string name) => Annotations.TryGetValue(name, out string? value) ? value : null;
}

/// <summary>A Kubernetes <c>Status</c> object (errors, and the object of a watch ERROR event).</summary>
internal sealed record KubeStatus(int Code, string Reason, string Message);

internal enum WatchEventType
{
    Unknown,
    Added,
    Modified,
    Deleted,
    Bookmark,
    Error,
}

/// <summary>One line of a watch stream: <c>{"type":"ADDED","object":{...}}</c>.</summary>
internal sealed record NodeWatchEvent(WatchEventType Type, NodeInfo? Node, KubeStatus? Status, string? ResourceVersion);

/// <summary>One page of a node list: its items, the list's resourceVersion, and the continue token.</summary>
internal sealed record NodeListPage(IReadOnlyList<NodeInfo> Items, string ResourceVersion, string? Continue);
