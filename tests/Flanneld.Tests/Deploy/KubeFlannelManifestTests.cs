using System.Text.Json.Nodes;
using YamlDotNet.RepresentationModel;

namespace Flanneld.Tests.Deploy;

public class KubeFlannelManifestTests
{
    private const string Conflist = """{"name":"cbr0","cniVersion":"0.3.1","plugins":[{"type":"flannel","delegate":{"hairpinMode":true,"isDefaultGateway":true}},{"type":"portmap","capabilities":{"portMappings":true}}]}""";

    private static readonly List<YamlMappingNode> Documents = Load();

    [Fact]
    public void Manifest_Namespace_IsKubeFlannel()
    {
        YamlMappingNode ns = Single("Namespace");

        Assert.Equal("kube-flannel", Scalar(ns, "metadata", "name"));
        Assert.All(Documents.Where(d => Scalar(d, "kind") is not ("Namespace" or "ClusterRole" or "ClusterRoleBinding")), d => Assert.Equal("kube-flannel", Scalar(d, "metadata", "namespace")));
    }

    [Fact]
    public void Manifest_ClusterRole_HasOnlyTheLeastRights()
    {
        YamlMappingNode role = Single("ClusterRole");
        var rules = ((YamlSequenceNode)role["rules"]).Cast<YamlMappingNode>()
            .SelectMany(r => Strings(r["resources"]).SelectMany(res => Strings(r["verbs"]).Select(v => $"{string.Join(',', Strings(r["apiGroups"]))}:{res}:{v}")))
            .Order()
            .ToList();

        Assert.Equal([":nodes/status:patch", ":nodes:get", ":nodes:list", ":nodes:watch", ":pods:get"], rules);
        YamlMappingNode binding = Single("ClusterRoleBinding");
        Assert.Equal("flannel", Scalar(binding, "roleRef", "name"));
        var subject = (YamlMappingNode)((YamlSequenceNode)binding["subjects"])[0];
        Assert.Equal("flannel", Scalar(subject, "name"));
        Assert.Equal("kube-flannel", Scalar(subject, "namespace"));
        Assert.Equal("flannel", Scalar(Single("ServiceAccount"), "metadata", "name"));
    }

    [Fact]
    public void Manifest_ConfigMap_HasUpstreamConflistAndNetConf()
    {
        YamlMappingNode config = Single("ConfigMap");

        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(Conflist), JsonNode.Parse(Scalar(config, "data", "cni-conf.json")!)));
        JsonNode netConf = JsonNode.Parse(Scalar(config, "data", "net-conf.json")!)!;
        Assert.Equal("vxlan", (string?)netConf["Backend"]!["Type"]);
        Assert.NotNull((string?)netConf["Network"]);
    }

    [Fact]
    public void Manifest_DaemonSet_RunsFlanneldAsUpstream()
    {
        YamlMappingNode pod = PodSpec();
        YamlMappingNode container = Assert.Single(((YamlSequenceNode)pod["containers"]).Cast<YamlMappingNode>());

        Assert.Equal("true", Scalar(pod, "hostNetwork"));
        Assert.Equal("flannel", Scalar(pod, "serviceAccountName"));
        Assert.Equal(["/opt/bin/flanneld"], Strings(container["command"]));
        Assert.Equal(["--ip-masq", "--kube-subnet-mgr", "--healthz-port=8081"], Strings(container["args"]));
        Assert.Equal(["NET_ADMIN", "NET_RAW"], Strings(((YamlMappingNode)((YamlMappingNode)container["securityContext"])["capabilities"])["add"]));
        Assert.Equal("false", Scalar(container, "securityContext", "privileged"));
        Assert.Equal("/healthz", Scalar(container, "livenessProbe", "httpGet", "path"));
        Assert.Equal("8081", Scalar(container, "livenessProbe", "httpGet", "port"));
        Assert.Equal("/readyz", Scalar(container, "readinessProbe", "httpGet", "path"));
        Assert.Equal("8081", Scalar(container, "readinessProbe", "httpGet", "port"));
        var env = ((YamlSequenceNode)container["env"]).Cast<YamlMappingNode>().Select(e => Scalar(e, "name")).ToList();
        Assert.Contains("POD_NAME", env);
        Assert.Contains("POD_NAMESPACE", env);
    }

    [Fact]
    public void Manifest_DaemonSet_MountsTheHostPaths()
    {
        YamlMappingNode pod = PodSpec();
        var hostPaths = ((YamlSequenceNode)pod["volumes"]).Cast<YamlMappingNode>()
            .Where(v => v.Children.ContainsKey("hostPath"))
            .ToDictionary(v => Scalar(v, "name")!, v => Scalar(v, "hostPath", "path")!);
        YamlMappingNode container = ((YamlSequenceNode)pod["containers"]).Cast<YamlMappingNode>().Single();
        var mounts = ((YamlSequenceNode)container["volumeMounts"]).Cast<YamlMappingNode>().ToDictionary(m => Scalar(m, "name")!, m => Scalar(m, "mountPath")!);

        Assert.Equal(["/etc/cni/net.d", "/opt/cni/bin", "/run/flannel", "/run/xtables.lock"], hostPaths.Values.Order());
        Assert.Equal("/run/flannel", mounts[hostPaths.Single(p => p.Value == "/run/flannel").Key]);
        Assert.Equal("/run/xtables.lock", mounts[hostPaths.Single(p => p.Value == "/run/xtables.lock").Key]);
        Assert.Equal("/etc/kube-flannel/", mounts["flannel-cfg"]);
    }

    [Fact]
    public void Manifest_InitContainers_InstallPluginAndConflist()
    {
        YamlMappingNode pod = PodSpec();
        var volumes = ((YamlSequenceNode)pod["volumes"]).Cast<YamlMappingNode>()
            .Where(v => v.Children.ContainsKey("hostPath"))
            .ToDictionary(v => Scalar(v, "name")!, v => Scalar(v, "hostPath", "path")!);
        var inits = ((YamlSequenceNode)pod["initContainers"]).Cast<YamlMappingNode>().ToList();
        string Script(YamlMappingNode c) => string.Join(' ', Strings(c["command"]).Concat(Strings(c["args"])));
        string HostMount(YamlMappingNode c, string mountPath) =>
            volumes[Scalar(((YamlSequenceNode)c["volumeMounts"]).Cast<YamlMappingNode>().Single(m => Scalar(m, "mountPath") == mountPath), "name")!];

        YamlMappingNode plugin = inits.Single(c => Script(c).Contains("/opt/bin/flannel ", StringComparison.Ordinal));
        Assert.EndsWith("/opt/cni/bin/flannel", Script(plugin), StringComparison.Ordinal);
        Assert.Equal("/opt/cni/bin", HostMount(plugin, "/opt/cni/bin"));
        YamlMappingNode conflist = inits.Single(c => Script(c).Contains("/etc/kube-flannel/cni-conf.json", StringComparison.Ordinal));
        Assert.EndsWith("/etc/cni/net.d/10-flannel.conflist", Script(conflist), StringComparison.Ordinal);
        Assert.Equal("/etc/cni/net.d", HostMount(conflist, "/etc/cni/net.d"));
    }

    private static List<YamlMappingNode> Load()
    {
        var stream = new YamlStream();
        using (var reader = new StreamReader(RepoPaths.InRepo("deploy/kube-flannel.yml")))
        {
            stream.Load(reader);
        }

        return stream.Documents.Select(d => d.RootNode).OfType<YamlMappingNode>().ToList();
    }

    private static YamlMappingNode Single(string kind) => Assert.Single(Documents, d => Scalar(d, "kind") == kind);

    private static YamlMappingNode PodSpec()
    {
        YamlMappingNode ds = Single("DaemonSet");
        return (YamlMappingNode)((YamlMappingNode)((YamlMappingNode)((YamlMappingNode)ds["spec"])["template"]))["spec"];
    }

    private static string? Scalar(YamlNode node, params string[] path)
    {
        foreach (string key in path)
        {
            if (node is not YamlMappingNode map || !map.Children.TryGetValue(new YamlScalarNode(key), out YamlNode? child))
            {
                return null;
            }

            node = child;
        }

        return (node as YamlScalarNode)?.Value;
    }

    private static List<string> Strings(YamlNode node) => ((YamlSequenceNode)node).Cast<YamlScalarNode>().Select(s => s.Value!).ToList();
}
