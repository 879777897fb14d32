namespace Berth.AuditLog.Shipping.Elasticsearch;

/// <summary>Elasticsearch could not be reached or did not take a request as a whole; the shipper backs off and retries.</summary>
public sealed class ElasticsearchSinkException(string message, Exception? inner = null) : Exception(message, inner);
