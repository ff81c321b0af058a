using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Flannel.Lab.Kubernetes;

namespace Flanneld.Tests.Leases.Kubernetes;

/// <summary>The fixture itself follows the API's rules that the store's tests rely on.</summary>
public sealed class FakeKubeApiServerTests : IAsyncLifetime, IDisposable
{
    private readonly HttpClient _http = new();
    private FakeKubeApiServer _server = null!;

    public async Task InitializeAsync()
    {
        _server = await FakeKubeApiServer.StartAsync();
        _http.BaseAddress = _server.BaseUri;
        _server.AddNode(FakeKubeApiServer.NodeObject("n1", "198.18.1.0/24"));
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    public void Dispose() => _http.Dispose();

    [Fact]
    public async Task Patch_StrategicMergeConditions_MergedByType()
    {
        HttpResponseMessage response = await PatchAsync("/api/v1/nodes/n1/status", "application/strategic-merge-patch+json", """{"status":{"conditions":[{"type":"NetworkUnavailable","status":"False"}]}}""");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(["Ready", "NetworkUnavailable"], _server.GetNode("n1")!["status"]!["conditions"]!.AsArray().Select(c => (string?)c!["type"]));
    }

    [Fact]
    public async Task Patch_JsonMergeConditions_ReplacesList()
    {
        await PatchAsync("/api/v1/nodes/n1/status", "application/merge-patch+json", """{"status":{"conditions":[{"type":"NetworkUnavailable","status":"False"}]}}""");

        Assert.Equal(["NetworkUnavailable"], _server.GetNode("n1")!["status"]!["conditions"]!.AsArray().Select(c => (string?)c!["type"]));
    }

    [Fact]
    public async Task Patch_JsonPatchAddAnnotation_AppliesAndBumpsResourceVersion()
    {
        long before = _server.ResourceVersion;

        HttpResponseMessage response = await PatchAsync("/api/v1/nodes/n1", "application/json-patch+json", """[{"op":"add","path":"/metadata/annotations","value":{}},{"op":"add","path":"/metadata/annotations/a~1b","value":"c"}]""");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("c", (string?)_server.GetNode("n1")!["metadata"]!["annotations"]!["a/b"]);
        Assert.Equal(before + 1, _server.ResourceVersion);
    }

    [Fact]
    public async Task Patch_StaleResourceVersion_Conflict()
    {
        HttpResponseMessage response = await PatchAsync("/api/v1/nodes/n1", "application/merge-patch+json", """{"metadata":{"resourceVersion":"1","labels":{"a":"b"}}}""");

        Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
        Assert.Contains("\"reason\":\"Conflict\"", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Patch_ChangeAssignedPodCidr_Invalid()
    {
        HttpResponseMessage response = await PatchAsync("/api/v1/nodes/n1", "application/merge-patch+json", """{"spec":{"podCIDR":"198.18.9.0/24"}}""");

        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
    }

    [Fact]
    public async Task Get_MissingNode_NotFoundStatus()
    {
        HttpResponseMessage response = await _http.GetAsync(new Uri("/api/v1/nodes/nope", UriKind.Relative));

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        JsonNode status = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        Assert.Equal("Status", (string?)status["kind"]);
        Assert.Equal(404, (int?)status["code"]);
    }

    [Fact]
    public async Task Watch_FromCompactedVersion_ErrorEvent410InsideHttp200()
    {
        _server.UpdateNode("n1", n => n["metadata"]!["labels"] = new JsonObject { ["x"] = "y" });
        _server.Compact();

        HttpResponseMessage response = await _http.GetAsync(new Uri("/api/v1/nodes?watch=true&resourceVersion=1000&timeoutSeconds=5", UriKind.Relative));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        JsonNode e = JsonNode.Parse((await response.Content.ReadAsStringAsync()).Split('\n')[0])!;
        Assert.Equal("ERROR", (string?)e["type"]);
        Assert.Equal(410, (int?)e["object"]!["code"]);
        Assert.Equal("Expired", (string?)e["object"]!["reason"]);
    }

    [Fact]
    public async Task Watch_TimeoutSeconds_ClosesStreamAfterEvents()
    {
        long from = _server.ResourceVersion;
        _server.UpdateNode("n1", n => n["metadata"]!["labels"] = new JsonObject { ["x"] = "y" });

        string body = await _http.GetStringAsync(new Uri($"/api/v1/nodes?watch=true&resourceVersion={from}&timeoutSeconds=1", UriKind.Relative));

        JsonNode e = JsonNode.Parse(body.Split('\n')[0])!;
        Assert.Equal("MODIFIED", (string?)e["type"]);
        Assert.Equal((from + 1).ToString(System.Globalization.CultureInfo.InvariantCulture), (string?)e["object"]!["metadata"]!["resourceVersion"]);
    }

    private async Task<HttpResponseMessage> PatchAsync(string path, string contentType, string body)
    {
        using var content = new StringContent(body, Encoding.UTF8);
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue(contentType);
        return await _http.PatchAsync(new Uri(path, UriKind.Relative), content);
    }
}
