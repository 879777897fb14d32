using Microsoft.Extensions.DependencyInjection;

namespace Berth.AuditLog.Search;

/// <summary>The search backend configuration chooses (AuditLog:SearchBackend), refused at start when it cannot work.</summary>
public static class SearchSetup
{
    public static IServiceCollection AddAuditSearch(this IServiceCollection services, AuditLogOptions options)
    {
        switch (options.SearchBackend.ToLowerInvariant())
        {
            case "database":
                services.AddSingleton<IAuditSearch, DatabaseAuditSearch>();
                break;
            case "elasticsearch" when options.Elasticsearch.Enabled:
                services.AddSingleton<IAuditSearch, ElasticsearchAuditSearch>();
                break;
            case "elasticsearch":
                throw new InvalidOperationException(
                    "AuditLog:SearchBackend is elasticsearch but AuditLog:Elasticsearch:Url is not set: the search reads what the Elasticsearch sink ships");
            default:
                throw new InvalidOperationException($"AuditLog:SearchBackend '{options.SearchBackend}' is not one of: database, elasticsearch");
        }
        return services;
    }
}
