using System.Text.RegularExpressions;

namespace Flanneld.Tests.Deploy;

public partial class ContainerfileTests
{
    [Fact]
    public void Containerfile_PublishCommand_SameAsPublishScript()
    {
        string script = File.ReadAllText(RepoPaths.InRepo("scripts/publish.sh"));
        string containerfile = File.ReadAllText(RepoPaths.InRepo("deploy/Containerfile"));

        string expected = Assert.Single(PublishCommand().Matches(script)).Value.Trim();
        string actual = Assert.Single(PublishCommand().Matches(containerfile)).Value.Trim();

        Assert.Equal(expected, actual);
        Assert.Equal(Projects(script), Projects(containerfile));
        Assert.Contains("src/Flanneld/Flanneld.csproj", Projects(containerfile), StringComparison.Ordinal);
        Assert.Contains("src/Flannel.Cni/Flannel.Cni.csproj", Projects(containerfile), StringComparison.Ordinal);
    }

    [Fact]
    public void Containerfile_RuntimeStage_BookwormWithFirewallToolsAndBothBinaries()
    {
        string containerfile = File.ReadAllText(RepoPaths.InRepo("deploy/Containerfile"));
        string runtime = containerfile[containerfile.LastIndexOf("\nFROM ", StringComparison.Ordinal)..];

        Assert.StartsWith("\nFROM debian:bookworm-slim\n", runtime, StringComparison.Ordinal);
        Assert.Contains("iptables", runtime, StringComparison.Ordinal);
        Assert.Contains("nftables", runtime, StringComparison.Ordinal);
        Assert.Contains("COPY --from=build /src/artifacts/bin/flanneld /opt/bin/flanneld", runtime, StringComparison.Ordinal);
        Assert.Contains("COPY --from=build /src/artifacts/bin/flannel /opt/bin/flannel", runtime, StringComparison.Ordinal);
    }

    [Fact]
    public void PublishScript_Output_HasBothNativeExecutables()
    {
        // scripts/test.sh runs scripts/publish.sh first: the binaries the Containerfile copies must be its output.
        foreach (string name in new[] { "flanneld", "flannel" })
        {
            string path = Path.Combine(RepoPaths.BinDir, name);
            Assert.True(File.Exists(path), $"{path} missing: run scripts/publish.sh");
            byte[] head = new byte[4];
            using (FileStream file = File.OpenRead(path))
            {
                file.ReadExactly(head);
            }

            Assert.Equal("\u007fELF"u8.ToArray(), head);
            Assert.True((File.GetUnixFileMode(path) & UnixFileMode.UserExecute) != 0, $"{path} is not executable");
        }
    }

    private static string Projects(string text) => string.Join(' ', ProjectList().Match(text).Groups[1].Value.Split(' ', StringSplitOptions.RemoveEmptyEntries));

    [GeneratedRegex("""dotnet publish "\$project"[^\n;|&\\]*""")]
    private static partial Regex PublishCommand();

    [GeneratedRegex(@"for project in ([^;]*);")]
    private static partial Regex ProjectList();
}
