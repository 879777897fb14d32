using System.Globalization;
using System.Text.Json;
using Berth.AuditLog.Data;
using Grpc.Core;
using Microsoft.AspNetCore.Http;

namespace Berth.AuditLog.Search;

/// <summary>
/// GET /api/v1/auditlog/export: the entries of a time range (and the same filters as
/// the search) as NDJSON, oldest first, streamed a page at a time so any range
/// exports in bounded memory. Access as for the search.
/// </summary>
public sealed class ExportEndpoint(IAuditSearch search, AuditAccess access)
{
    private const int Page = 1000;
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public async Task ExportAsync(HttpContext context)
    {
        var query = context.Request.Query;
        AuditFilter filter;
        IReadOnlyList<AuditEntry> page;
        try
        {
            filter = new AuditFilter(Value(query["namespace"]), Value(query["repository"]), Value(query["performer"]),
                [.. query["kind"].Where(k => !string.IsNullOrEmpty(k)).Select(k => k!)], Time(query["since"], "since"), Time(query["until"], "until"));
            if (filter.Since > filter.Until) throw new FormatException("since is after until");
            filter = await access.RestrictAsync(context, filter, context.RequestAborted);
            // The first page before the headers: a search backend that is down is a clean 503, not a cut-off file.
            page = await search.OldestAsync(filter, 0, Page, context.RequestAborted);
        }
        catch (FormatException e)
        {
            await Problem(context, StatusCodes.Status400BadRequest, e.Message);
            return;
        }
        catch (RpcException e)
        {
            await Problem(context, e.StatusCode switch
            {
                StatusCode.Unauthenticated => StatusCodes.Status401Unauthorized,
                StatusCode.ResourceExhausted => StatusCodes.Status429TooManyRequests,
                StatusCode.Unavailable => StatusCodes.Status503ServiceUnavailable,
                _ => StatusCodes.Status403Forbidden,
            }, e.Status.Detail);
            return;
        }

        context.Response.ContentType = "application/x-ndjson";
        context.Response.Headers.ContentDisposition = "attachment; filename=\"audit-log.ndjson\"";
        while (true)
        {
            foreach (var entry in page)
            {
                await context.Response.WriteAsync(JsonSerializer.Serialize(Line(entry), Json), context.RequestAborted);
                await context.Response.WriteAsync("\n", context.RequestAborted);
            }
            if (page.Count < Page) break;
            await context.Response.Body.FlushAsync(context.RequestAborted);
            page = await search.OldestAsync(filter, page[^1].Id, Page, context.RequestAborted);
        }
    }

    private static object Line(AuditEntry e) => new
    {
        id = e.EntryId,
        sequence = e.Id,
        kind = e.Kind,
        @namespace = e.Namespace,
        repository = e.Repository,
        performer = e.Performer,
        performerKind = e.PerformerKind,
        address = e.Address,
        userAgent = e.UserAgent,
        requestId = e.RequestId,
        occurredAt = DateTime.SpecifyKind(e.OccurredAt, DateTimeKind.Utc),
        metadata = JsonDocument.Parse(e.Metadata).RootElement,
    };

    private static string? Value(string? value) => string.IsNullOrEmpty(value) ? null : value;

    private static DateTime? Time(string? value, string name) =>
        string.IsNullOrEmpty(value) ? null
        : DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var parsed) ? parsed.UtcDateTime
        : throw new FormatException($"{name} is not a time (RFC 3339, e.g. 2026-11-29T00:00:00Z)");

    private static Task Problem(HttpContext context, int status, string detail) =>
        Results.Problem(detail: detail, statusCode: status).ExecuteAsync(context);
}
