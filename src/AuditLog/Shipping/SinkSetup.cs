using Microsoft.Extensions.DependencyInjection;

namespace Berth.AuditLog.Shipping;

/// <summary>The sinks configuration turns on (AuditLog:Elasticsearch:Url, AuditLog:Splunk:Url), each with its own shipper.</summary>
public static class SinkSetup
{
    public static IServiceCollection AddAuditSinks(this IServiceCollection services, AuditLogOptions options)
    {
        if (options.Elasticsearch.Enabled)
        {
            services.AddSingleton<Elasticsearch.ElasticsearchSink>();
            services.AddSingleton<IAuditSink>(sp => sp.GetRequiredService<Elasticsearch.ElasticsearchSink>());
            // Added as a plain IHostedService: AddHostedService would drop a second SinkShipper as a duplicate.
            services.AddSingleton<Microsoft.Extensions.Hosting.IHostedService>(sp => ActivatorUtilities.CreateInstance<SinkShipper>(sp, sp.GetRequiredService<Elasticsearch.ElasticsearchSink>()));
        }
        if (options.Splunk.Enabled)
        {
            services.AddSingleton<Splunk.SplunkSink>();
            services.AddSingleton<IAuditSink>(sp => sp.GetRequiredService<Splunk.SplunkSink>());
            // A plain IHostedService, as for Elasticsearch: AddHostedService would drop a second SinkShipper.
            services.AddSingleton<Microsoft.Extensions.Hosting.IHostedService>(sp => ActivatorUtilities.CreateInstance<SinkShipper>(sp, sp.GetRequiredService<Splunk.SplunkSink>()));
        }
        return services;
    }
}
