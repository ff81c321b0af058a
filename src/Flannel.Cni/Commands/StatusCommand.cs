namespace Flannel.Cni.Commands;

/// <summary>STATUS (CNI 1.1): ready when flanneld has written a complete subnet.env.</summary>
internal static class StatusCommand
{
    public static void Run(Invocation invocation)
    {
        NetConf conf = invocation.ReadConf();
        Invocation.RequireVersion(conf, "1.1.0", "STATUS");
        try
        {
            PluginSubnetEnv.Load(conf.SubnetFile);
        }
        catch (CniException e)
        {
            throw new CniException(CniErrorCode.PluginNotAvailable, e.Message, e.Details);
        }
    }
}
