using System.Globalization;
using Berth.AuditLog.Api.V1;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;

namespace Berth.AuditLog.Search;

/// <summary>The audit log's search API (protos/auditlog.proto), REST under /api/v1/auditlog.</summary>
public sealed class AuditLogGrpcService(IAuditSearch search, AuditAccess access) : AuditLogService.AuditLogServiceBase
{
    private const int DefaultPageSize = 100;
    private const int MaxPageSize = 1000;

    public override async Task<ListEntriesResponse> ListEntries(ListEntriesRequest request, ServerCallContext context)
    {
        var pageSize = request.PageSize switch
        {
            0 => DefaultPageSize,
            < 0 or > MaxPageSize => throw Invalid($"page_size must be between 1 and {MaxPageSize}"),
            _ => request.PageSize,
        };
        long? before = null;
        if (request.Cursor.Length > 0)
            before = long.TryParse(request.Cursor, NumberStyles.None, CultureInfo.InvariantCulture, out var parsed) && parsed > 0
                ? parsed : throw Invalid("cursor is not one this API returned");
        var filter = await access.RestrictAsync(context.GetHttpContext(),
            Filter(request.Namespace, request.Repository, request.Performer, request.Kind, request.Since, request.Until), context.CancellationToken);

        var page = await search.NewestAsync(filter, before, pageSize + 1, context.CancellationToken);
        var response = new ListEntriesResponse();
        response.Entries.AddRange(page.Take(pageSize).Select(ToMessage));
        if (page.Count > pageSize) response.NextCursor = page[pageSize - 1].Id.ToString(CultureInfo.InvariantCulture);
        return response;
    }

    public override async Task<CountByKindPerDayResponse> CountByKindPerDay(CountByKindPerDayRequest request, ServerCallContext context)
    {
        var filter = await access.RestrictAsync(context.GetHttpContext(),
            Filter(request.Namespace, request.Repository, request.Performer, request.Kind, request.Since, request.Until), context.CancellationToken);
        var counts = await search.CountByKindPerDayAsync(filter, context.CancellationToken);
        var response = new CountByKindPerDayResponse();
        response.Counts.AddRange(counts.Select(c => new DayCount
        {
            Day = c.Day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
            Kind = c.Kind,
            Count = c.Count,
        }));
        return response;
    }

    internal static AuditFilter Filter(string @namespace, string repository, string performer, IEnumerable<string> kinds, Timestamp? since, Timestamp? until)
    {
        var from = since?.ToDateTime();
        var to = until?.ToDateTime();
        if (from is not null && to is not null && from > to) throw Invalid("since is after until");
        return new AuditFilter(Empty(@namespace), Empty(repository), Empty(performer), [.. kinds.Where(k => k.Length > 0)], from, to);
    }

    internal static Api.V1.AuditEntry ToMessage(Data.AuditEntry entry)
    {
        var message = new Api.V1.AuditEntry
        {
            Id = entry.EntryId.ToString(),
            Sequence = entry.Id,
            Kind = entry.Kind,
            Namespace = entry.Namespace,
            Repository = entry.Repository ?? "",
            Performer = entry.Performer,
            PerformerKind = entry.PerformerKind,
            Address = entry.Address ?? "",
            UserAgent = entry.UserAgent ?? "",
            RequestId = entry.RequestId ?? "",
            OccurredAt = Timestamp.FromDateTime(DateTime.SpecifyKind(entry.OccurredAt, DateTimeKind.Utc)),
            Metadata = Struct.Parser.ParseJson(entry.Metadata),
        };
        return message;
    }

    private static string? Empty(string value) => value.Length == 0 ? null : value;

    private static RpcException Invalid(string message) => new(new Status(StatusCode.InvalidArgument, message));
}
