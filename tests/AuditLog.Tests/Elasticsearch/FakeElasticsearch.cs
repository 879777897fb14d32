using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Berth.TestSupport;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Berth.AuditLog.Tests.Elasticsearch;

/// <summary>
/// Just enough Elasticsearch for the sink and the search backend, on a loopback port:
/// ILM policies, index templates, <c>_bulk</c> index actions and the searches
/// <see cref="FakeSearch"/> answers. It checks the protocol (NDJSON framing,
/// content types, action shape), maps the fields the way the sink's template says
/// Elasticsearch would (an unparsable source.ip is a 400 item), stores documents by
/// (index, id) and answers like the real thing, product header included. Tests
/// inject failures: per-item statuses, refusing every request, or hanging.
/// </summary>
public sealed class FakeElasticsearch : ISearchCluster
{
    private readonly WebApplication _app;
    private readonly Lock _gate = new();
    private readonly Dictionary<(string Index, string Id), JsonObject> _documents = [];
    private readonly List<IndexedDocument> _arrivals = [];
    private readonly Dictionary<string, JsonObject> _policies = [];
    private readonly Dictionary<string, JsonObject> _templates = [];
    private readonly HashSet<string> _indices = [];
    private readonly List<string> _indicesWithoutTemplate = [];
    private readonly List<string> _protocolErrors = [];
    private readonly List<string> _requests = [];
    private int _refused;
    private int _hung;

    private FakeElasticsearch(WebApplication app, string url)
    {
        _app = app;
        Url = url;
    }

    public string Url { get; }

    public string? ApiKey => null;

    /// <summary>Answers every request with 503 while set.</summary>
    public volatile bool Refusing;

    /// <summary>While set, every request is answered only after <see cref="HangFor"/> (and then carried out, as a server would that the client gave up on).</summary>
    public volatile bool Hanging;

    public TimeSpan HangFor { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>Decides an item's fate before it is indexed: a status to fail it with, or null to index it.</summary>
    public Func<IndexedDocument, int?>? ItemFault { get; set; }

    public int RefusedRequests => Volatile.Read(ref _refused);

    public int HungRequests => Volatile.Read(ref _hung);

    /// <summary>Every document indexed, in the order it was indexed, resends included.</summary>
    public IReadOnlyList<IndexedDocument> Arrivals { get { lock (_gate) return [.. _arrivals]; } }

    /// <summary>"METHOD path" of every request, in order.</summary>
    public IReadOnlyList<string> Requests { get { lock (_gate) return [.. _requests]; } }

    /// <summary>Violations of the protocol the fake saw; a correct client leaves this empty.</summary>
    public IReadOnlyList<string> ProtocolErrors { get { lock (_gate) return [.. _protocolErrors]; } }

    /// <summary>Indices created before a template matched them (Elasticsearch would have guessed their mappings).</summary>
    public IReadOnlyList<string> IndicesCreatedWithoutTemplate { get { lock (_gate) return [.. _indicesWithoutTemplate]; } }

    public static async Task<FakeElasticsearch> StartAsync()
    {
        for (var attempt = 0; ; attempt++)
        {
            var port = LoopbackPorts.Free();
            var builder = WebApplication.CreateSlimBuilder();
            builder.Logging.ClearProviders();
            builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
            // The client gzips request bodies (Content-Encoding: gzip), as Elasticsearch accepts.
            builder.Services.AddRequestDecompression();
            var app = builder.Build();
            app.UseRequestDecompression();
            var fake = new FakeElasticsearch(app, $"http://127.0.0.1:{port}");
            fake.Map(app);
            try
            {
                await app.StartAsync();
                return fake;
            }
            catch (IOException) when (attempt < 5)
            {
                // Another process took the port between our probe and Kestrel's bind.
                await app.DisposeAsync();
            }
        }
    }

    private void Map(WebApplication app)
    {
        var stopping = app.Services.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping;
        app.Use(async (context, next) =>
        {
            // The official client refuses any answer without this header.
            context.Response.Headers["X-Elastic-Product"] = "Elasticsearch";
            lock (_gate) _requests.Add($"{context.Request.Method} {context.Request.Path}");
            if (Refusing)
            {
                Interlocked.Increment(ref _refused);
                await Error(HttpStatusCode.ServiceUnavailable, "cluster_block_exception", "blocked by: [SERVICE_UNAVAILABLE/2/no master]").ExecuteAsync(context);
                return;
            }
            if (Hanging)
            {
                Interlocked.Increment(ref _hung);
                context.Request.EnableBuffering();
                await context.Request.Body.CopyToAsync(Stream.Null);
                context.Request.Body.Position = 0;
                try { await Task.Delay(HangFor, stopping); }
                catch (OperationCanceledException) { return; }
            }
            await next(context);
        });
        app.MapGet("/", () => Json(HttpStatusCode.OK, new JsonObject
        {
            ["name"] = "fake-node",
            ["cluster_name"] = "berth-test",
            ["cluster_uuid"] = "berth-test-cluster",
            ["version"] = new JsonObject
            {
                ["number"] = "9.1.0",
                ["build_flavor"] = "default",
                ["build_type"] = "docker",
                ["lucene_version"] = "10.2.2",
                ["minimum_wire_compatibility_version"] = "8.19.0",
                ["minimum_index_compatibility_version"] = "8.0.0",
            },
            ["tagline"] = "You Know, for Search",
        }));
        app.MapPut("/_ilm/policy/{name}", async (string name, HttpRequest request) =>
        {
            var body = await ReadJsonAsync(request);
            if (body?["policy"]?["phases"] is not JsonObject phases || phases.Count == 0)
                return Reject("ILM policy without policy.phases");
            lock (_gate) _policies[name] = body;
            return Json(HttpStatusCode.OK, new JsonObject { ["acknowledged"] = true });
        });
        app.MapPut("/_index_template/{name}", async (string name, HttpRequest request) =>
        {
            var body = await ReadJsonAsync(request);
            if (body?["index_patterns"] is not JsonArray { Count: > 0 } || body["template"]?["mappings"] is not JsonObject)
                return Reject("index template without index_patterns or template.mappings");
            var policy = body["template"]?["settings"]?["index.lifecycle.name"]?.GetValue<string>();
            lock (_gate)
            {
                if (policy is not null && !_policies.ContainsKey(policy)) return Reject($"template names ILM policy [{policy}] that does not exist yet");
                _templates[name] = body;
            }
            return Json(HttpStatusCode.OK, new JsonObject { ["acknowledged"] = true });
        });
        app.MapPost("/_bulk", BulkAsync);
        app.MapPost("/{indices}/_search", SearchAsync);
    }

    /// <summary>Searches the documents of the indices the pattern names (see <see cref="FakeSearch"/>).</summary>
    private async Task<IResult> SearchAsync(string indices, HttpRequest request)
    {
        if (await ReadJsonAsync(request) is not { } body) return Reject("_search body is not a JSON object");
        var errors = new List<string>();
        JsonObject answer;
        lock (_gate)
        {
            Searches++;
            var documents = _documents.Where(d => Matches(indices, d.Key.Index)).Select(d => (d.Key.Index, d.Key.Id, d.Value)).ToList();
            answer = FakeSearch.Answer(body, documents, errors);
        }
        if (errors.Count > 0) return Reject(string.Join("; ", errors));
        return Json(HttpStatusCode.OK, answer);
    }

    /// <summary>Searches answered so far.</summary>
    public int Searches { get; private set; }

    private static bool Matches(string pattern, string index) =>
        pattern.Split(',').Any(p => p.EndsWith('*') ? index.StartsWith(p[..^1], StringComparison.Ordinal) : index == p);

    private async Task<IResult> BulkAsync(HttpRequest request)
    {
        var contentType = request.ContentType ?? "";
        if (!contentType.StartsWith("application/x-ndjson", StringComparison.Ordinal)
            && !contentType.StartsWith("application/vnd.elasticsearch+x-ndjson", StringComparison.Ordinal))
            return Reject($"bulk content type [{contentType}] is not NDJSON");
        using var reader = new StreamReader(request.Body, Encoding.UTF8);
        var text = await reader.ReadToEndAsync();
        if (!text.EndsWith('\n')) return Reject("bulk body does not end with a newline");
        var lines = text[..^1].Split('\n');
        if (lines.Length % 2 != 0) return Reject("bulk body is not action/source line pairs");

        var items = new JsonArray();
        var errors = false;
        lock (_gate)
        {
            for (var i = 0; i < lines.Length; i += 2)
            {
                if (ParseObject(lines[i]) is not { Count: 1 } action || action["index"] is not JsonObject meta
                    || meta["_index"]?.GetValue<string>() is not { Length: > 0 } index || meta["_id"]?.GetValue<string>() is not { Length: > 0 } id)
                    return Reject($"line {i + 1} is not an index action with _index and _id: {lines[i]}");
                if (ParseObject(lines[i + 1]) is not { } source) return Reject($"line {i + 2} is not a JSON object source");
                var document = new IndexedDocument(index, id, source);
                var status = ItemFault?.Invoke(document) ?? MappingError(source);
                if (status is { } failed)
                {
                    errors = true;
                    items.Add(new JsonObject { ["index"] = ItemError(index, id, failed) });
                    continue;
                }
                if (_indices.Add(index) && !_templates.Values.Any(t => Matches(t, index))) _indicesWithoutTemplate.Add(index);
                var created = _documents.TryAdd((index, id), source);
                if (!created) _documents[(index, id)] = source;
                _arrivals.Add(document);
                items.Add(new JsonObject
                {
                    ["index"] = new JsonObject
                    {
                        ["_index"] = index,
                        ["_id"] = id,
                        ["_version"] = 1,
                        ["result"] = created ? "created" : "updated",
                        ["_shards"] = new JsonObject { ["total"] = 1, ["successful"] = 1, ["failed"] = 0 },
                        ["_seq_no"] = _arrivals.Count,
                        ["_primary_term"] = 1,
                        ["status"] = created ? 201 : 200,
                    },
                });
            }
        }
        return Json(HttpStatusCode.OK, new JsonObject { ["took"] = 1, ["errors"] = errors, ["items"] = items });
    }

    /// <summary>What the sink's mappings make Elasticsearch refuse (status 400), or null.</summary>
    private static int? MappingError(JsonObject source)
    {
        if (source["source"]?["ip"] is { } ip && !IPAddress.TryParse(ip.GetValue<string>(), out _)) return 400;
        if (source["@timestamp"]?.GetValue<string>() is not { } timestamp
            || !DateTimeOffset.TryParse(timestamp, CultureInfo.InvariantCulture, DateTimeStyles.None, out _)) return 400;
        if (source["event"]?["sequence"] is not JsonValue sequence || !sequence.TryGetValue<long>(out _)) return 400;
        return source["berth"]?["metadata"] is null or JsonObject ? null : 400;
    }

    private static JsonObject ItemError(string index, string id, int status) => new()
    {
        ["_index"] = index,
        ["_id"] = id,
        ["status"] = status,
        ["error"] = status == 429
            ? new JsonObject { ["type"] = "es_rejected_execution_exception", ["reason"] = "rejected execution of coordinating operation" }
            : status >= 500
                ? new JsonObject { ["type"] = "unavailable_shards_exception", ["reason"] = "primary shard is not active" }
                : new JsonObject { ["type"] = "document_parsing_exception", ["reason"] = "failed to parse field [source.ip] of type [ip]" },
    };

    private static bool Matches(JsonObject template, string index) =>
        template["index_patterns"]!.AsArray().Any(p => Matches(p!.GetValue<string>(), index));

    private static JsonObject? ParseObject(string line)
    {
        try { return JsonNode.Parse(line) as JsonObject; }
        catch (JsonException) { return null; }
    }

    private static async Task<JsonObject?> ReadJsonAsync(HttpRequest request)
    {
        using var reader = new StreamReader(request.Body, Encoding.UTF8);
        return ParseObject(await reader.ReadToEndAsync());
    }

    private IResult Reject(string problem)
    {
        lock (_gate) _protocolErrors.Add(problem);
        return Error(HttpStatusCode.BadRequest, "illegal_argument_exception", problem);
    }

    private static IResult Error(HttpStatusCode status, string type, string reason) => Json(status, new JsonObject
    {
        ["error"] = new JsonObject { ["type"] = type, ["reason"] = reason },
        ["status"] = (int)status,
    });

    private static IResult Json(HttpStatusCode status, JsonObject body) =>
        Results.Text(body.ToJsonString(), "application/json", Encoding.UTF8, (int)status);

    public Task<IReadOnlyList<IndexedDocument>> DocumentsAsync(string prefix)
    {
        lock (_gate)
            return Task.FromResult<IReadOnlyList<IndexedDocument>>([.. _documents
                .Where(d => d.Key.Index.StartsWith(prefix + "-", StringComparison.Ordinal))
                .Select(d => new IndexedDocument(d.Key.Index, d.Key.Id, d.Value))
                .OrderBy(d => d.Sequence)]);
    }

    public Task<JsonObject?> PolicyAsync(string name)
    {
        lock (_gate) return Task.FromResult(_policies.GetValueOrDefault(name));
    }

    public Task<JsonObject?> TemplateAsync(string name)
    {
        lock (_gate) return Task.FromResult(_templates.GetValueOrDefault(name));
    }

    /// <summary>The fake's documents are searchable as soon as they are indexed.</summary>
    public Task RefreshAsync(string prefix) => Task.CompletedTask;

    public Task CleanUpAsync(string prefix) => Task.CompletedTask;

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
