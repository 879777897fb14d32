using System.ComponentModel.DataAnnotations;

namespace Berth.Messaging;

/// <summary>Which bus integration events travel on, bound from the "Bus" section.</summary>
public sealed class BusOptions
{
    public const string SectionName = "Bus";

    /// <summary>"inprocess" (the embedded default: one process, no broker) or "rabbitmq".</summary>
    [RegularExpression("^(inprocess|rabbitmq)$", ErrorMessage = "Bus:Transport must be 'inprocess' or 'rabbitmq'")]
    public string Transport { get; set; } = "inprocess";

    /// <summary>amqp://user:password@host:port/vhost, for the rabbitmq transport.</summary>
    public string? RabbitMqUrl { get; set; }

    /// <summary>How long one publish may wait for the broker before the outbox tries again later.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:05:00")]
    public TimeSpan PublishTimeout { get; set; } = TimeSpan.FromSeconds(10);
}
