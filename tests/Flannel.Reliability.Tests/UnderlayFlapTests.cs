using Flannel.Lab;

namespace Flannel.Reliability.Tests;

/// <summary>Case 4: a node's underlay link goes down and up; flannel.1 and its entries survive and pods ping again.</summary>
public sealed class UnderlayFlapTests
{
    [Fact]
    public async Task Eth0DownUp_VxlanDeviceAndEntriesIntact_PodsPingAgain()
    {
        await using TwoNodeVxlan lab = await TwoNodeVxlan.StartAsync();
        LabNode node = lab.Cluster.Nodes[0];
        Assert.Empty(await lab.PingFailuresAsync(TimeSpan.FromSeconds(5)));
        string mac = (string)(await KernelView.LinkAsync(node, "flannel.1"))!["address"]!;
        List<string> before = await TwoNodeVxlan.FlannelEntriesAsync(node);

        for (int flap = 0; flap < 3; flap++)
        {
            await node.IpAsync("link", "set", "eth0", "down");
            await Task.Delay(1500);
            await node.IpAsync("link", "set", "eth0", "up");
            await Task.Delay(500);
        }

        Assert.False(node.Flanneld!.HasExited, "flanneld exited on the flap:\n" + node.Flanneld.ReadLog());
        Assert.Equal(mac, (string)(await KernelView.LinkAsync(node, "flannel.1"))!["address"]!);
        Assert.True(await KernelView.EventuallyAsync(async () => (await TwoNodeVxlan.FlannelEntriesAsync(node)).SequenceEqual(before), TimeSpan.FromSeconds(10)),
            $"flannel.1 entries changed:\nbefore: {string.Join("; ", before)}\nafter: {string.Join("; ", await TwoNodeVxlan.FlannelEntriesAsync(node))}");
        Assert.Empty(await lab.PingFailuresAsync(TimeSpan.FromSeconds(10)));
    }
}
