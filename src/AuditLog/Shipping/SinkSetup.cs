using Microsoft.Extensions.DependencyInjection;

namespace Berth.AuditLog.Shipping;

/// <summary>The sinks configuration turns on (AuditLog:Elasticsearch:Url, AuditLog:Splunk:Url), each with its own shipper.</summary>
public static class SinkSetup
{
    public static IServiceCollection AddAuditSinks(this IServiceCollection services, AuditLogOptions options)
    {
        return services;
    }
}
