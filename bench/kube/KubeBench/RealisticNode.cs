using System.Globalization;
using System.Text.Json.Nodes;
using Flannel.Lab.Kubernetes;

namespace KubeBench;

/// <summary>
/// A Node shaped like a kubelet-registered one (labels, kubeadm and flannel annotations, managedFields, capacity,
/// conditions, nodeInfo, 30 images): about the size real nodes have, so that byte and CPU figures mean something.
/// </summary>
internal static class RealisticNode
{
    public static JsonObject Create(int index)
    {
        string name = string.Create(CultureInfo.InvariantCulture, $"worker-{index:D5}");
        int third = index / 250;
        int fourth = index % 250;
        string podCidr = string.Create(CultureInfo.InvariantCulture, $"10.{64 + (index / 256)}.{index % 256}.0/24");
        string publicIP = string.Create(CultureInfo.InvariantCulture, $"192.0.{2 + (third % 2)}.{fourth + 1}");
        string mac = string.Create(CultureInfo.InvariantCulture, $"4a:fe:{index >> 8 & 0xff:x2}:{index & 0xff:x2}:ca:bf");
        var annotations = new Dictionary<string, string>
        {
            ["flannel.alpha.coreos.com/backend-data"] = $"{{\"VNI\":1,\"VtepMAC\":\"{mac}\"}}",
            ["flannel.alpha.coreos.com/backend-type"] = "vxlan",
            ["flannel.alpha.coreos.com/kube-subnet-manager"] = "true",
            ["flannel.alpha.coreos.com/public-ip"] = publicIP,
            ["kubeadm.alpha.kubernetes.io/cri-socket"] = "unix:///var/run/containerd/containerd.sock",
            ["node.alpha.kubernetes.io/ttl"] = "0",
            ["volumes.kubernetes.io/controller-managed-attach-detach"] = "true",
        };
        JsonObject node = FakeKubeApiServer.NodeObject(name, podCidr, annotations);
        var metadata = (JsonObject)node["metadata"]!;
        metadata["creationTimestamp"] = "2026-11-01T10:00:00Z";
        metadata["labels"] = new JsonObject
        {
            ["beta.kubernetes.io/arch"] = "amd64",
            ["beta.kubernetes.io/os"] = "linux",
            ["kubernetes.io/arch"] = "amd64",
            ["kubernetes.io/hostname"] = name,
            ["kubernetes.io/os"] = "linux",
            ["node.kubernetes.io/instance-type"] = "m5.xlarge",
            ["topology.kubernetes.io/region"] = "eu-west-1",
            ["topology.kubernetes.io/zone"] = "eu-west-1" + (char)('a' + (index % 3)),
        };
        metadata["managedFields"] = new JsonArray(
            ManagedField("kubeadm", "{\"f:metadata\":{\"f:annotations\":{\"f:kubeadm.alpha.kubernetes.io/cri-socket\":{}},\"f:labels\":{\"f:node-role.kubernetes.io/worker\":{}}}}"),
            ManagedField("kubelet", "{\"f:metadata\":{\"f:annotations\":{\".\":{},\"f:node.alpha.kubernetes.io/ttl\":{},\"f:volumes.kubernetes.io/controller-managed-attach-detach\":{}},\"f:labels\":{\".\":{},\"f:beta.kubernetes.io/arch\":{},\"f:beta.kubernetes.io/os\":{},\"f:kubernetes.io/arch\":{},\"f:kubernetes.io/hostname\":{},\"f:kubernetes.io/os\":{}}},\"f:status\":{\"f:conditions\":{\"k:{\\\"type\\\":\\\"DiskPressure\\\"}\":{\"f:lastHeartbeatTime\":{}},\"k:{\\\"type\\\":\\\"MemoryPressure\\\"}\":{\"f:lastHeartbeatTime\":{}},\"k:{\\\"type\\\":\\\"PIDPressure\\\"}\":{\"f:lastHeartbeatTime\":{}},\"k:{\\\"type\\\":\\\"Ready\\\"}\":{\"f:lastHeartbeatTime\":{},\"f:lastTransitionTime\":{},\"f:message\":{},\"f:reason\":{},\"f:status\":{}}},\"f:images\":{}}}"),
            ManagedField("flanneld", "{\"f:metadata\":{\"f:annotations\":{\"f:flannel.alpha.coreos.com/backend-data\":{},\"f:flannel.alpha.coreos.com/backend-type\":{},\"f:flannel.alpha.coreos.com/kube-subnet-manager\":{},\"f:flannel.alpha.coreos.com/public-ip\":{}}},\"f:status\":{\"f:conditions\":{\"k:{\\\"type\\\":\\\"NetworkUnavailable\\\"}\":{\".\":{},\"f:lastHeartbeatTime\":{},\"f:lastTransitionTime\":{},\"f:message\":{},\"f:reason\":{},\"f:status\":{},\"f:type\":{}}}}}"));
        ((JsonObject)node["spec"]!)["providerID"] = $"aws:///eu-west-1a/i-0{index:x12}";
        var conditions = new JsonArray();
        foreach ((string type, string status, string reason) in new[]
        {
            ("NetworkUnavailable", "False", "FlannelIsUp"),
            ("MemoryPressure", "False", "KubeletHasSufficientMemory"),
            ("DiskPressure", "False", "KubeletHasNoDiskPressure"),
            ("PIDPressure", "False", "KubeletHasSufficientPID"),
            ("Ready", "True", "KubeletReady"),
        })
        {
            conditions.Add(new JsonObject
            {
                ["type"] = type,
                ["status"] = status,
                ["lastHeartbeatTime"] = "2026-11-25T21:00:00Z",
                ["lastTransitionTime"] = "2026-11-01T10:00:10Z",
                ["reason"] = reason,
                ["message"] = $"kubelet reports {type} {status}",
            });
        }

        var images = new JsonArray();
        for (int i = 0; i < 30; i++)
        {
            images.Add(new JsonObject
            {
                ["names"] = new JsonArray(
                    $"registry.example.org/team-{i % 7}/service-{i}@sha256:{i:x2}{new string('a', 62)}",
                    $"registry.example.org/team-{i % 7}/service-{i}:v1.{i}.0"),
                ["sizeBytes"] = 10_000_000 + (i * 1_234_567),
            });
        }

        var resources = new JsonObject { ["cpu"] = "4", ["ephemeral-storage"] = "101430960Ki", ["hugepages-1Gi"] = "0", ["hugepages-2Mi"] = "0", ["memory"] = "16093996Ki", ["pods"] = "110" };
        node["status"] = new JsonObject
        {
            ["capacity"] = resources.DeepClone(),
            ["allocatable"] = resources,
            ["conditions"] = conditions,
            ["addresses"] = new JsonArray(
                new JsonObject { ["type"] = "InternalIP", ["address"] = publicIP },
                new JsonObject { ["type"] = "Hostname", ["address"] = name }),
            ["daemonEndpoints"] = new JsonObject { ["kubeletEndpoint"] = new JsonObject { ["Port"] = 10250 } },
            ["nodeInfo"] = new JsonObject
            {
                ["machineID"] = new string('1', 32),
                ["systemUUID"] = Guid.NewGuid().ToString(),
                ["bootID"] = Guid.NewGuid().ToString(),
                ["kernelVersion"] = "6.1.0-27-amd64",
                ["osImage"] = "Debian GNU/Linux 12 (bookworm)",
                ["containerRuntimeVersion"] = "containerd://1.7.24",
                ["kubeletVersion"] = "v1.31.4",
                ["kubeProxyVersion"] = "v1.31.4",
                ["operatingSystem"] = "linux",
                ["architecture"] = "amd64",
            },
            ["images"] = images,
        };
        return node;
    }

    private static JsonObject ManagedField(string manager, string fields) => new()
    {
        ["manager"] = manager,
        ["operation"] = "Update",
        ["apiVersion"] = "v1",
        ["time"] = "2026-11-25T21:00:00Z",
        ["fieldsType"] = "FieldsV1",
        ["fieldsV1"] = JsonNode.Parse(fields),
    };
}
