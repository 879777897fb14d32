using Berth.Collector.Api.V1;
using Berth.Registry.Collection;
using Berth.Registry.Services;
using Grpc.Core;
using Microsoft.EntityFrameworkCore;

namespace Berth.Collector.Api;

/// <summary>Time-machine windows: a namespace's admins choose theirs from the allowed windows.</summary>
public sealed partial class CollectorGrpcService
{
    public override async Task<TimeMachineWindow> SetTimeMachineWindow(SetTimeMachineWindowRequest request, ServerCallContext context)
    {
        PolicyScope(request.Namespace, "");
        var window = request.Window.Trim() is "0" or "0s" ? TimeSpan.Zero : ExpiryLabel.Parse(request.Window)
            ?? throw new RpcException(new Status(StatusCode.InvalidArgument, $"window '{(request.Window.Length > 40 ? request.Window[..40] : request.Window)}' is not a duration such as 0s, 1d, 7d or 2w"));
        if (!windows.Allowed(window))
            throw new RpcException(new Status(StatusCode.InvalidArgument,
                $"window {window} is not one of the allowed windows: {string.Join(", ", windows.AllowedWindows)}"));
        var setBy = await access.RequireAsync(context, new CollectionScope(request.Namespace), "set the time-machine window");
        await collectorDb.WriteAsync(async db =>
        {
            var row = await db.Windows.FirstOrDefaultAsync(w => w.Namespace == request.Namespace, context.CancellationToken);
            if (row is null)
            {
                row = new Data.NamespaceWindow { Namespace = request.Namespace, SetBy = setBy };
                db.Windows.Add(row);
            }
            row.WindowSeconds = (long)window.TotalSeconds;
            row.SetBy = setBy;
            row.SetAt = collectorDb.Now();
            return await db.SaveChangesAsync(context.CancellationToken);
        }, context.CancellationToken);
        windows.Invalidate();
        return DescribeWindow(request.Namespace);
    }

    public override async Task<TimeMachineWindow> GetTimeMachineWindow(GetTimeMachineWindowRequest request, ServerCallContext context)
    {
        PolicyScope(request.Namespace, "");
        await access.RequireAsync(context, new CollectionScope(request.Namespace), "see the time-machine window");
        return DescribeWindow(request.Namespace);
    }

    private TimeMachineWindow DescribeWindow(string @namespace) => new()
    {
        Namespace = @namespace,
        WindowSeconds = (long)windows.WindowOf(@namespace).TotalSeconds,
        AllowedSeconds = { windows.AllowedWindows.Select(w => (long)w.TotalSeconds) },
    };
}
