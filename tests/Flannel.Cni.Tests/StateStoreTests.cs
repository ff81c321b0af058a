using System.Text;

namespace Flannel.Cni.Tests;

public sealed class StateStoreTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("fnt-cni-state-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Theory]
    [InlineData("../escape")]
    [InlineData("/etc/passwd")]
    [InlineData("a/../../b")]
    [InlineData("..")]
    [InlineData(".hidden")]
    [InlineData("a b")]
    public void PathOf_IdThatCouldLeaveDataDir_InvalidEnvironment(string id)
    {
        var store = new StateStore(Path.Combine(_root, "data"));
        CniException e = Assert.Throws<CniException>(() => store.PathOf(id));
        Assert.Equal(CniErrorCode.InvalidEnvironmentVariables, e.Code);
        Assert.Equal(id, e.Details);
    }

    [Fact]
    public void PathOf_EmptyId_UnknownContainer()
    {
        var store = new StateStore(_root);
        Assert.Equal(CniErrorCode.UnknownContainer, Assert.Throws<CniException>(() => store.PathOf("")).Code);
    }

    [Fact]
    public void Save_NewDataDir_Dir0700File0600ContentIntact()
    {
        string dataDir = Path.Combine(_root, "a", "data");
        var store = new StateStore(dataDir);
        store.Save("c1.x_y-z", Encoding.UTF8.GetBytes("{\"type\":\"bridge\"}")).Complete();
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(dataDir));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(dataDir, "c1.x_y-z")));
        Assert.Equal("{\"type\":\"bridge\"}", Encoding.UTF8.GetString(store.Read("c1.x_y-z")!));
        Assert.Equal(["c1.x_y-z"], store.ContainerIds());
    }

    [Fact]
    public void Discard_SavedState_GoneFromItsPathAndFromContainerIds()
    {
        var store = new StateStore(_root);
        store.Save("c1", "{}"u8).Complete();
        store.Save("c2", "{}"u8).Complete();
        store.Discard("c1");
        Assert.Null(store.Read("c1"));
        Assert.Equal(["c2"], store.ContainerIds());
        store.Discard("c1");
    }

    [Fact]
    public void PurgeDiscarded_AfterDiscards_OnlyStateInUseLeft()
    {
        var store = new StateStore(_root);
        foreach (string id in (string[])["c1", "c2", "c3"])
        {
            store.Save(id, "{}"u8).Complete();
        }

        store.Discard("c1");
        store.Discard("c3");
        store.PurgeDiscarded();
        Assert.Equal(["c2"], Directory.GetFiles(_root).Select(Path.GetFileName));
        new StateStore(Path.Combine(_root, "none")).PurgeDiscarded();
    }

    [Fact]
    public void Read_Absent_Null_RemoveAbsent_NoError()
    {
        var store = new StateStore(_root);
        Assert.Null(store.Read("nothing"));
        store.Remove("nothing");
        Assert.Empty(new StateStore(Path.Combine(_root, "none")).ContainerIds());
    }
}
