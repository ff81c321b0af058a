using System.Text;
using Flanneld.Leases.Kubernetes;

namespace Flanneld.Tests.Leases.Kubernetes;

public class NodeJsonTests
{
    private const string Prefix = "flannel.alpha.coreos.com/";

    [Fact]
    public void ReadWatchEvent_FullNode_KeepsOnlyLeaseFields()
    {
        string line = """
            {"type":"MODIFIED","object":{"kind":"Node","apiVersion":"v1","metadata":{"name":"n1","uid":"u","resourceVersion":"4711",
            "labels":{"a":"b"},"annotations":{"flannel.alpha.coreos.com/public-ip":"192.0.2.1","node.alpha.kubernetes.io/ttl":"0",
            "flannel.alpha.coreos.com/backend-data":"{\"VNI\":1}"},"managedFields":[{"manager":"kubelet","fieldsV1":{"f:status":{}}}]},
            "spec":{"podCIDR":"198.18.1.0/24","podCIDRs":["198.18.1.0/24","2001:db8::/64"],"taints":[{"key":"k","effect":"NoSchedule"}]},
            "status":{"conditions":[{"type":"Ready","status":"True"}],"images":[{"names":["x"],"sizeBytes":1}]}}}
            """.ReplaceLineEndings("");

        NodeWatchEvent e = NodeJson.ReadWatchEvent(Encoding.UTF8.GetBytes(line), Prefix);

        Assert.Equal(WatchEventType.Modified, e.Type);
        Assert.Equal("4711", e.ResourceVersion);
        Assert.Equal("n1", e.Node!.Name);
        Assert.Equal("198.18.1.0/24", e.Node.PodCidr);
        Assert.Equal(["198.18.1.0/24", "2001:db8::/64"], e.Node.PodCidrs);
        Assert.Equal(2, e.Node.Annotations.Count);
        Assert.Equal("{\"VNI\":1}", e.Node.Annotation(Prefix + "backend-data"));
    }

    [Fact]
    public void ReadWatchEvent_ErrorEvent_ReadsStatus()
    {
        byte[] line = Encoding.UTF8.GetBytes("""{"type":"ERROR","object":{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"too old resource version: 1 (5)","reason":"Expired","code":410}}""");

        NodeWatchEvent e = NodeJson.ReadWatchEvent(line, Prefix);

        Assert.Equal(WatchEventType.Error, e.Type);
        Assert.Equal(new KubeStatus(410, "Expired", "too old resource version: 1 (5)"), e.Status);
    }

    [Fact]
    public void ReadWatchEvent_Bookmark_ReadsResourceVersion()
    {
        byte[] line = Encoding.UTF8.GetBytes("""{"type":"BOOKMARK","object":{"kind":"Node","apiVersion":"v1","metadata":{"resourceVersion":"12345","creationTimestamp":null,"annotations":{"k8s.io/initial-events-end":"true"}}}}""");

        NodeWatchEvent e = NodeJson.ReadWatchEvent(line, Prefix);

        Assert.Equal(WatchEventType.Bookmark, e.Type);
        Assert.Equal("12345", e.ResourceVersion);
    }

    [Fact]
    public void ReadNodeList_WithContinue_ReadsItemsAndMetadata()
    {
        byte[] json = Encoding.UTF8.GetBytes("""{"kind":"NodeList","apiVersion":"v1","metadata":{"resourceVersion":"99","continue":"abc","remainingItemCount":3},"items":[{"metadata":{"name":"a"}},{"metadata":{"name":"b","annotations":null},"spec":{}}]}""");

        NodeListPage page = NodeJson.ReadNodeList(json, Prefix);

        Assert.Equal("99", page.ResourceVersion);
        Assert.Equal("abc", page.Continue);
        Assert.Equal(["a", "b"], page.Items.Select(n => n.Name));
        Assert.Empty(page.Items[1].Annotations);
        Assert.Equal("", page.Items[1].PodCidr);
    }

    [Fact]
    public void TryReadStatus_NotFound_ReadsCodeAndReason()
    {
        byte[] json = Encoding.UTF8.GetBytes("""{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"nodes \"x\" not found","reason":"NotFound","details":{"name":"x","kind":"nodes"},"code":404}""");

        Assert.Equal(new KubeStatus(404, "NotFound", "nodes \"x\" not found"), NodeJson.TryReadStatus(json));
        Assert.Null(NodeJson.TryReadStatus("not json"u8));
    }

    [Fact]
    public void ReadPodNodeName_Pod_ReturnsSpecNodeName()
    {
        Assert.Equal("worker-3", NodeJson.ReadPodNodeName("""{"kind":"Pod","metadata":{"name":"p"},"spec":{"containers":[],"nodeName":"worker-3"}}"""u8));
    }
}
