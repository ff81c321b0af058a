using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Logging;

namespace Flannel.Lab.Kubernetes;

/// <summary>
/// An in-process stand-in for kube-apiserver's <c>/api/v1/nodes</c> (and pod GET), served by Kestrel on 127.0.0.1
/// (or on a listening socket the caller made, e.g. inside the lab's underlay namespace),
/// following the API's documented rules: one global resourceVersion bumped on every write; list (with limit/continue)
/// and watch from a resourceVersion as newline-delimited JSON; a bounded event window, after which a watch gets an
/// ERROR event carrying a 410 Expired Status inside HTTP 200; BOOKMARK events when asked; watches closed at
/// timeoutSeconds; strategic-merge / JSON-merge / JSON patch on nodes and nodes/status; 409 on a stale
/// resourceVersion; podCIDR settable only from ""; Status objects for errors; metadata-only watches when the Accept
/// header asks for <c>as=PartialObjectMetadata;g=meta.k8s.io;v=v1</c>.
/// </summary>
public sealed class FakeKubeApiServer : IAsyncDisposable
{
    private static readonly JsonSerializerOptions GoStyle = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
    private readonly object _lock = new();
    private readonly SortedDictionary<string, JsonObject> _nodes = new(StringComparer.Ordinal);
    private readonly Dictionary<string, JsonObject> _pods = new(StringComparer.Ordinal);
    private readonly List<(long Rv, string Type, string Json, string MetadataJson)> _events = [];
    private readonly Dictionary<string, (long Rv, List<string> Remaining)> _continues = new(StringComparer.Ordinal);
    private readonly List<RecordedRequest> _requests = [];
    private WebApplication? _app;
    private long _rv = 1000;
    private long _compactedRv = 1000;
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private CancellationTokenSource _closeWatches = new();
    private long _watchBytes;
    private long _listBytes;
    private int _watchRequests;
    private int _listRequests;
    private int _activeWatches;
    private int _expiredHttpResponses;
    private int _expiredErrorEvents;
    private int _metadataWatches;

    /// <summary>How many events the server remembers; a watch from before them gets 410 Expired.</summary>
    public int EventWindow { get; set; } = 10_000;

    /// <summary>How often BOOKMARK events are sent to watches that asked for them.</summary>
    public TimeSpan BookmarkInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>When set, a watch from a too-old resourceVersion gets HTTP 410 instead of an ERROR event in HTTP 200.</summary>
    public bool ExpiredWatchAsHttpStatus { get; set; }

    /// <summary>When set, every request must carry <c>Authorization: Bearer &lt;token&gt;</c>.</summary>
    public string? RequiredBearerToken { get; set; }

    public Uri BaseUri { get; private set; } = new("http://127.0.0.1/");

    public long ResourceVersion
    {
        get
        {
            lock (_lock)
            {
                return _rv;
            }
        }
    }

    /// <summary>Body bytes written on watch streams and list responses.</summary>
    public long WatchBytes => Interlocked.Read(ref _watchBytes);

    public long ListBytes => Interlocked.Read(ref _listBytes);

    public int WatchRequests => Volatile.Read(ref _watchRequests);

    public int ListRequests => Volatile.Read(ref _listRequests);

    public int ActiveWatches => Volatile.Read(ref _activeWatches);

    /// <summary>Watches answered with HTTP 410, and ERROR 410 events sent inside HTTP 200 streams.</summary>
    public int ExpiredHttpResponses => Volatile.Read(ref _expiredHttpResponses);

    public int ExpiredErrorEvents => Volatile.Read(ref _expiredErrorEvents);

    /// <summary>Watches that asked for PartialObjectMetadata.</summary>
    public int MetadataWatches => Volatile.Read(ref _metadataWatches);

    public IReadOnlyList<RecordedRequest> Requests
    {
        get
        {
            lock (_lock)
            {
                return _requests.ToList();
            }
        }
    }

    /// <summary>Starts the server on an ephemeral port of 127.0.0.1.</summary>
    public static async Task<FakeKubeApiServer> StartAsync()
    {
        var server = new FakeKubeApiServer();
        WebApplication app = await server.RunAsync(options => options.Listen(IPAddress.Loopback, 0));
        server.BaseUri = new Uri(app.Urls.First());
        return server;
    }

    /// <summary>
    /// Starts the server on a socket that is already bound and listening. The caller keeps owning it; a socket
    /// created inside another network namespace serves that namespace (how the lab reaches its node namespaces).
    /// </summary>
    public static async Task<FakeKubeApiServer> StartAsync(Socket listener)
    {
        ArgumentNullException.ThrowIfNull(listener);
        var endPoint = (IPEndPoint)(listener.LocalEndPoint ?? throw new ArgumentException("the socket is not bound", nameof(listener)));
        var server = new FakeKubeApiServer();
        await server.RunAsync(options => options.ListenHandle((ulong)listener.Handle));
        server.BaseUri = new Uri($"http://{endPoint}/");
        return server;
    }

    private async Task<WebApplication> RunAsync(Action<KestrelServerOptions> listen)
    {
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(listen);
        WebApplication app = builder.Build();
        app.Run(HandleAsync);
        await app.StartAsync();
        _app = app;
        return app;
    }

    public async ValueTask DisposeAsync()
    {
        await _closeWatches.CancelAsync();
        if (_app is not null)
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }

        _closeWatches.Dispose();
    }

    /// <summary>A Node JSON object with the given name, podCIDR(s) and annotations (null: no annotations at all).</summary>
    public static JsonObject NodeObject(string name, string? podCidr = null, IReadOnlyDictionary<string, string>? annotations = null, string[]? podCidrs = null)
    {
        var metadata = new JsonObject { ["name"] = name, ["uid"] = Guid.NewGuid().ToString() };
        if (annotations is not null)
        {
            var a = new JsonObject();
            foreach ((string k, string v) in annotations)
            {
                a[k] = v;
            }

            metadata["annotations"] = a;
        }

        var spec = new JsonObject();
        if (!string.IsNullOrEmpty(podCidr))
        {
            spec["podCIDR"] = podCidr;
            spec["podCIDRs"] = new JsonArray((podCidrs ?? [podCidr]).Select(c => (JsonNode?)JsonValue.Create(c)).ToArray());
        }

        return new JsonObject
        {
            ["kind"] = "Node",
            ["apiVersion"] = "v1",
            ["metadata"] = metadata,
            ["spec"] = spec,
            ["status"] = new JsonObject
            {
                ["conditions"] = new JsonArray(new JsonObject { ["type"] = "Ready", ["status"] = "True", ["reason"] = "KubeletReady" }),
                ["addresses"] = new JsonArray(new JsonObject { ["type"] = "InternalIP", ["address"] = "192.0.2.10" }),
            },
        };
    }

    public void AddNode(JsonObject node)
    {
        ArgumentNullException.ThrowIfNull(node);
        lock (_lock)
        {
            string name = (string)node["metadata"]!["name"]!;
            if (_nodes.ContainsKey(name))
            {
                throw new InvalidOperationException($"node {name} exists");
            }

            Write("ADDED", name, (JsonObject)node.DeepClone());
        }
    }

    /// <summary>Replaces a node through <paramref name="change"/> applied to a copy (a kubelet or admin update).</summary>
    public void UpdateNode(string name, Action<JsonObject> change)
    {
        ArgumentNullException.ThrowIfNull(change);
        lock (_lock)
        {
            var copy = (JsonObject)_nodes[name].DeepClone();
            change(copy);
            Write("MODIFIED", name, copy);
        }
    }

    public void DeleteNode(string name)
    {
        lock (_lock)
        {
            JsonObject node = _nodes[name];
            _rv++;
            var deleted = (JsonObject)node.DeepClone();
            deleted["metadata"]!["resourceVersion"] = _rv.ToString(CultureInfo.InvariantCulture);
            _nodes.Remove(name);
            Record("DELETED", deleted);
        }
    }

    public JsonObject? GetNode(string name)
    {
        lock (_lock)
        {
            return _nodes.TryGetValue(name, out JsonObject? node) ? (JsonObject)node.DeepClone() : null;
        }
    }

    public void AddPod(string podNamespace, string name, string nodeName)
    {
        lock (_lock)
        {
            _pods[podNamespace + "/" + name] = new JsonObject
            {
                ["kind"] = "Pod",
                ["apiVersion"] = "v1",
                ["metadata"] = new JsonObject { ["name"] = name, ["namespace"] = podNamespace },
                ["spec"] = new JsonObject { ["nodeName"] = nodeName, ["containers"] = new JsonArray() },
            };
        }
    }

    /// <summary>Forgets all history (an etcd compaction): watches resuming from before now get 410 Expired.</summary>
    public void Compact()
    {
        lock (_lock)
        {
            _events.Clear();
            _compactedRv = _rv;
            _continues.Clear();
        }
    }

    /// <summary>Runs <paramref name="changes"/> as one step that no watch observes half-way (writes, then a compaction).</summary>
    public void Atomically(Action changes)
    {
        ArgumentNullException.ThrowIfNull(changes);
        lock (_lock)
        {
            changes();
        }
    }

    /// <summary>Ends every open watch from the server side (an API server restart or a watch-cache reset).</summary>
    public void CloseWatches()
    {
        CancellationTokenSource old;
        lock (_lock)
        {
            old = _closeWatches;
            _closeWatches = new CancellationTokenSource();
        }

        old.Cancel();
        old.Dispose();
    }

    /// <summary>Go's encoding/json style: quotes escaped as \", not \u0022.</summary>
    public static string Serialize(JsonNode node)
    {
        ArgumentNullException.ThrowIfNull(node);
        return node.ToJsonString(GoStyle);
    }

    private static async Task WriteStatusAsync(HttpContext context, HttpStatusCode code, string reason, string message)
    {
        var status = new JsonObject
        {
            ["kind"] = "Status",
            ["apiVersion"] = "v1",
            ["metadata"] = new JsonObject(),
            ["status"] = "Failure",
            ["message"] = message,
            ["reason"] = reason,
            ["code"] = (int)code,
        };
        context.Response.StatusCode = (int)code;
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(Serialize(status), context.RequestAborted);
    }

    private static JsonObject MetadataOnly(JsonNode node) => new()
    {
        ["kind"] = "PartialObjectMetadata",
        ["apiVersion"] = "meta.k8s.io/v1",
        ["metadata"] = node["metadata"]?.DeepClone(),
    };

    private static JsonObject StatusObject(int code, string reason, string message) => new()
    {
        ["kind"] = "Status",
        ["apiVersion"] = "v1",
        ["metadata"] = new JsonObject(),
        ["status"] = "Failure",
        ["message"] = message,
        ["reason"] = reason,
        ["code"] = code,
    };

    /// <summary>Go serialises maps with sorted keys; so does the API server for labels and annotations.</summary>
    private static void SortMaps(JsonObject node)
    {
        if (node["metadata"] is not JsonObject metadata)
        {
            return;
        }

        foreach (string map in new[] { "labels", "annotations" })
        {
            if (metadata[map] is JsonObject entries)
            {
                var sorted = new JsonObject();
                foreach ((string key, JsonNode? value) in entries.OrderBy(e => e.Key, StringComparer.Ordinal).ToList())
                {
                    entries.Remove(key);
                    sorted[key] = value;
                }

                metadata[map] = sorted;
            }
        }
    }

    private void Write(string type, string name, JsonObject node)
    {
        SortMaps(node);
        _rv++;
        node["metadata"]!["resourceVersion"] = _rv.ToString(CultureInfo.InvariantCulture);
        _nodes[name] = node;
        Record(type, node);
    }

    private void Record(string type, JsonObject node)
    {
        _events.Add((_rv, type, Serialize(node), Serialize(MetadataOnly(node))));
        if (_events.Count > EventWindow)
        {
            int drop = _events.Count - EventWindow;
            _compactedRv = _events[drop - 1].Rv;
            _events.RemoveRange(0, drop);
        }

        TaskCompletionSource changed = _changed;
        _changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        changed.TrySetResult();
    }

    private async Task HandleAsync(HttpContext context)
    {
        string path = context.Request.Path.Value ?? "";
        string method = context.Request.Method;
        string body = "";
        if (method is "PATCH" or "POST" or "PUT")
        {
            using var reader = new StreamReader(context.Request.Body, Encoding.UTF8);
            body = await reader.ReadToEndAsync(context.RequestAborted);
        }

        lock (_lock)
        {
            _requests.Add(new RecordedRequest(method, path + context.Request.QueryString, context.Request.ContentType, body));
        }

        if (RequiredBearerToken is { } token && context.Request.Headers.Authorization.ToString() != "Bearer " + token)
        {
            await WriteStatusAsync(context, HttpStatusCode.Unauthorized, "Unauthorized", "Unauthorized");
            return;
        }

        string[] parts = path.Trim('/').Split('/');
        if (parts is ["api", "v1", "nodes"] && method == "GET")
        {
            if (context.Request.Query["watch"] == "true" || context.Request.Query["watch"] == "1")
            {
                await WatchAsync(context);
            }
            else
            {
                await ListAsync(context);
            }
        }
        else if (parts is ["api", "v1", "nodes", string name] && method == "GET")
        {
            JsonObject? node = GetNode(name);
            if (node is null)
            {
                await WriteStatusAsync(context, HttpStatusCode.NotFound, "NotFound", $"nodes \"{name}\" not found");
                return;
            }

            await WriteJsonAsync(context, node);
        }
        else if (parts is ["api", "v1", "nodes", string patchName, ..] && parts.Length <= 5 && method == "PATCH"
            && (parts.Length == 4 || parts[4] == "status"))
        {
            await PatchAsync(context, patchName, status: parts.Length == 5, body);
        }
        else if (parts is ["api", "v1", "namespaces", string ns, "pods", string pod] && method == "GET")
        {
            JsonObject? found;
            lock (_lock)
            {
                found = _pods.TryGetValue(ns + "/" + pod, out JsonObject? p) ? (JsonObject)p.DeepClone() : null;
            }

            if (found is null)
            {
                await WriteStatusAsync(context, HttpStatusCode.NotFound, "NotFound", $"pods \"{pod}\" not found");
                return;
            }

            await WriteJsonAsync(context, found);
        }
        else
        {
            await WriteStatusAsync(context, HttpStatusCode.NotFound, "NotFound", "the server could not find the requested resource");
        }
    }

    private static async Task WriteJsonAsync(HttpContext context, JsonNode node)
    {
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(Serialize(node), context.RequestAborted);
    }

    private async Task ListAsync(HttpContext context)
    {
        Interlocked.Increment(ref _listRequests);
        int limit = int.TryParse(context.Request.Query["limit"], out int l) && l > 0 ? l : int.MaxValue;
        string? continueToken = context.Request.Query["continue"];
        long rv;
        List<string> names;
        var items = new JsonArray();
        string? next = null;
        lock (_lock)
        {
            if (!string.IsNullOrEmpty(continueToken))
            {
                if (!_continues.Remove(continueToken, out var state) || state.Rv < _compactedRv)
                {
                    rv = -1;
                    names = [];
                }
                else
                {
                    rv = state.Rv;
                    names = state.Remaining;
                }
            }
            else
            {
                rv = _rv;
                names = _nodes.Keys.ToList();
            }

            if (rv >= 0)
            {
                // A continued page is served from the list's own resourceVersion; nodes deleted since are skipped
                // (a real server reads the old snapshot; this is close enough for a client, which must not care).
                foreach (string name in names.Take(limit))
                {
                    if (_nodes.TryGetValue(name, out JsonObject? node))
                    {
                        items.Add(node.DeepClone());
                    }
                }

                if (names.Count > limit)
                {
                    next = Guid.NewGuid().ToString("N");
                    _continues[next] = (rv, names.Skip(limit).ToList());
                }
            }
        }

        if (rv < 0)
        {
            await WriteStatusAsync(context, HttpStatusCode.Gone, "Expired", "The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.");
            return;
        }

        var metadata = new JsonObject { ["resourceVersion"] = rv.ToString(CultureInfo.InvariantCulture) };
        if (next is not null)
        {
            metadata["continue"] = next;
        }

        var list = new JsonObject { ["kind"] = "NodeList", ["apiVersion"] = "v1", ["metadata"] = metadata, ["items"] = items };
        byte[] bytes = Encoding.UTF8.GetBytes(Serialize(list));
        Interlocked.Add(ref _listBytes, bytes.Length);
        context.Response.ContentType = "application/json";
        await context.Response.Body.WriteAsync(bytes, context.RequestAborted);
    }

    private async Task WatchAsync(HttpContext context)
    {
        Interlocked.Increment(ref _watchRequests);
        string rvText = context.Request.Query["resourceVersion"].ToString();
        bool bookmarks = context.Request.Query["allowWatchBookmarks"] == "true";
        bool metadataOnly = context.Request.Headers.Accept.ToString().Contains("as=PartialObjectMetadata", StringComparison.Ordinal);
        if (metadataOnly)
        {
            Interlocked.Increment(ref _metadataWatches);
        }

        int timeoutSeconds = int.TryParse(context.Request.Query["timeoutSeconds"], out int t) && t > 0 ? t : 1800;
        long cursor;
        var initial = new List<string>();
        CancellationToken closed;
        lock (_lock)
        {
            closed = _closeWatches.Token;
            if (rvText is "" or "0")
            {
                // "Any" version: synthetic ADDED events for the current state, then changes.
                cursor = _rv;
                initial.AddRange(_nodes.Values.Select(n => Serialize(new JsonObject { ["type"] = "ADDED", ["object"] = metadataOnly ? MetadataOnly(n) : n.DeepClone() })));
            }
            else if (!long.TryParse(rvText, NumberStyles.None, CultureInfo.InvariantCulture, out cursor))
            {
                cursor = -1;
            }
        }

        if (cursor < 0)
        {
            await WriteStatusAsync(context, HttpStatusCode.BadRequest, "BadRequest", $"invalid resourceVersion \"{rvText}\"");
            return;
        }

        if (IsTooOld(cursor) && ExpiredWatchAsHttpStatus)
        {
            Interlocked.Increment(ref _expiredHttpResponses);
            await WriteStatusAsync(context, HttpStatusCode.Gone, "Expired", $"too old resource version: {cursor} ({_compactedRv})");
            return;
        }

        context.Response.ContentType = "application/json";
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, closed);
        stop.CancelAfter(TimeSpan.FromSeconds(timeoutSeconds));
        Interlocked.Increment(ref _activeWatches);
        try
        {
            await context.Response.StartAsync(stop.Token);
            foreach (string line in initial)
            {
                await SendLineAsync(context, line, stop.Token);
            }

            DateTime nextBookmark = DateTime.UtcNow + BookmarkInterval;
            while (!stop.IsCancellationRequested)
            {
                List<string> lines;
                Task changed;
                bool expired;
                lock (_lock)
                {
                    expired = IsTooOld(cursor);
                    lines = [];
                    if (!expired)
                    {
                        foreach ((long rv, string type, string json, string metadataJson) in _events)
                        {
                            if (rv > cursor)
                            {
                                lines.Add($"{{\"type\":\"{type}\",\"object\":{(metadataOnly ? metadataJson : json)}}}");
                                cursor = rv;
                            }
                        }
                    }

                    changed = _changed.Task;
                }

                if (expired && ExpiredWatchAsHttpStatus)
                {
                    // A watcher that fell behind is closed; its reconnect then gets the HTTP 410.
                    return;
                }

                if (expired)
                {
                    // History past this watcher's position is gone: the documented 410 inside the 200 stream.
                    Interlocked.Increment(ref _expiredErrorEvents);
                    string status = Serialize(new JsonObject { ["type"] = "ERROR", ["object"] = StatusObject(410, "Expired", $"too old resource version: {cursor} ({_compactedRv})") });
                    await SendLineAsync(context, status, stop.Token);
                    return;
                }

                foreach (string line in lines)
                {
                    await SendLineAsync(context, line, stop.Token);
                }

                if (bookmarks && DateTime.UtcNow >= nextBookmark)
                {
                    string kind = metadataOnly ? "\"kind\":\"PartialObjectMetadata\",\"apiVersion\":\"meta.k8s.io/v1\"" : "\"kind\":\"Node\",\"apiVersion\":\"v1\"";
                    string bookmark = $"{{\"type\":\"BOOKMARK\",\"object\":{{{kind},\"metadata\":{{\"resourceVersion\":\"{cursor}\",\"creationTimestamp\":null}}}}}}";
                    await SendLineAsync(context, bookmark, stop.Token);
                    nextBookmark = DateTime.UtcNow + BookmarkInterval;
                }

                TimeSpan wait = bookmarks ? nextBookmark - DateTime.UtcNow : TimeSpan.FromSeconds(30);
                await Task.WhenAny(changed, Task.Delay(wait > TimeSpan.Zero ? wait : TimeSpan.Zero, stop.Token));
            }
        }
        catch (OperationCanceledException)
        {
            // timeoutSeconds, CloseWatches or the client went away: the stream just ends.
        }
        catch (IOException)
        {
        }
        finally
        {
            Interlocked.Decrement(ref _activeWatches);
        }
    }

    private bool IsTooOld(long cursor)
    {
        lock (_lock)
        {
            return cursor < _compactedRv;
        }
    }

    private async Task SendLineAsync(HttpContext context, string line, CancellationToken cancellationToken)
    {
        byte[] bytes = Encoding.UTF8.GetBytes(line + "\n");
        Interlocked.Add(ref _watchBytes, bytes.Length);
        await context.Response.Body.WriteAsync(bytes, cancellationToken);
        await context.Response.Body.FlushAsync(cancellationToken);
    }

    private async Task PatchAsync(HttpContext context, string name, bool status, string body)
    {
        JsonNode? patch;
        try
        {
            patch = JsonNode.Parse(body);
        }
        catch (JsonException ex)
        {
            await WriteStatusAsync(context, HttpStatusCode.BadRequest, "BadRequest", $"invalid JSON patch: {ex.Message}");
            return;
        }

        string contentType = context.Request.ContentType ?? "";
        (HttpStatusCode Code, string Reason, string Message)? failure = null;
        JsonObject? result = null;
        lock (_lock)
        {
            if (!_nodes.TryGetValue(name, out JsonObject? current))
            {
                failure = (HttpStatusCode.NotFound, "NotFound", $"nodes \"{name}\" not found");
            }
            else
            {
                try
                {
                    JsonObject patched = contentType switch
                    {
                        "application/strategic-merge-patch+json" => KubePatch.StrategicMerge(current, patch as JsonObject ?? throw new PatchException("patch is not an object")),
                        "application/merge-patch+json" => KubePatch.JsonMerge(current, patch as JsonObject ?? throw new PatchException("patch is not an object")),
                        "application/json-patch+json" => KubePatch.JsonPatch(current, patch as JsonArray ?? throw new PatchException("patch is not an array")),
                        _ => throw new NotSupportedException(contentType),
                    };
                    failure = Validate(name, current, patched, patch, status);
                    if (failure is null)
                    {
                        if (status)
                        {
                            // nodes/status writes metadata and status; spec comes from the stored object.
                            patched["spec"] = current["spec"]?.DeepClone();
                        }
                        else
                        {
                            patched["status"] = current["status"]?.DeepClone();
                        }

                        patched["metadata"]!["resourceVersion"] = current["metadata"]!["resourceVersion"]?.DeepClone();
                        if (!JsonNode.DeepEquals(patched, current))
                        {
                            Write("MODIFIED", name, patched);
                        }

                        result = (JsonObject)_nodes[name].DeepClone();
                    }
                }
                catch (NotSupportedException)
                {
                    failure = (HttpStatusCode.UnsupportedMediaType, "UnsupportedMediaType", $"the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json; got {contentType}");
                }
                catch (PatchException ex)
                {
                    failure = (HttpStatusCode.UnprocessableEntity, "Invalid", ex.Message);
                }
            }
        }

        if (failure is { } f)
        {
            await WriteStatusAsync(context, f.Code, f.Reason, f.Message);
            return;
        }

        await WriteJsonAsync(context, result!);
    }

    private static (HttpStatusCode, string, string)? Validate(string name, JsonObject current, JsonObject patched, JsonNode? patch, bool status)
    {
        string? wanted = (string?)((patch as JsonObject)?["metadata"]?["resourceVersion"] as JsonValue);
        string? have = (string?)current["metadata"]?["resourceVersion"];
        if (wanted is not null && wanted != have)
        {
            return (HttpStatusCode.Conflict, "Conflict", $"Operation cannot be fulfilled on nodes \"{name}\": the object has been modified; please apply your changes to the latest version and try again");
        }

        if ((string?)patched["metadata"]?["name"] != name)
        {
            return (HttpStatusCode.UnprocessableEntity, "Invalid", $"Node \"{name}\" is invalid: metadata.name: Invalid value: field is immutable");
        }

        if (!status)
        {
            string oldCidr = (string?)current["spec"]?["podCIDR"] ?? "";
            string newCidr = (string?)patched["spec"]?["podCIDR"] ?? "";
            if (oldCidr.Length > 0 && newCidr != oldCidr)
            {
                return (HttpStatusCode.UnprocessableEntity, "Invalid", $"Node \"{name}\" is invalid: spec.podCIDR: Forbidden: node updates may not change podCIDR except from \"\" to valid");
            }

            JsonNode? oldCidrs = current["spec"]?["podCIDRs"];
            if (oldCidrs is JsonArray { Count: > 0 } && !JsonNode.DeepEquals(oldCidrs, patched["spec"]?["podCIDRs"]))
            {
                return (HttpStatusCode.UnprocessableEntity, "Invalid", $"Node \"{name}\" is invalid: spec.podCIDRs: Forbidden: node updates may not change podCIDR except from \"\" to valid");
            }
        }

        return null;
    }
}

/// <summary>A request the fake server received, for tests that check what the client sent.</summary>
public sealed record RecordedRequest(string Method, string PathAndQuery, string? ContentType, string Body);
