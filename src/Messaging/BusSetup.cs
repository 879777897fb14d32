using Berth.Data.Outbox;
using MassTransit;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;

namespace Berth.Messaging;

/// <summary>
/// The bus every module's outbox publishes to. In-process (the default) needs
/// nothing; with Bus:Transport=rabbitmq events go to RabbitMQ through MassTransit.
/// Call before the modules are added: they only add the in-process bus if no
/// publisher is registered yet.
/// </summary>
public static class BusSetup
{
    public static IHostApplicationBuilder AddBerthBus(this IHostApplicationBuilder builder, Action<IBusRegistrationConfigurator>? consumers = null)
    {
        builder.Services.AddOptions<BusOptions>().Bind(builder.Configuration.GetSection(BusOptions.SectionName)).ValidateDataAnnotations().ValidateOnStart();
        var options = builder.Configuration.GetSection(BusOptions.SectionName).Get<BusOptions>() ?? new BusOptions();
        if (options.Transport != "rabbitmq") return builder;
        if (string.IsNullOrEmpty(options.RabbitMqUrl))
            throw new InvalidOperationException("Bus:Transport is 'rabbitmq' but Bus:RabbitMqUrl is not set");

        builder.Services.AddMassTransit(bus =>
        {
            consumers?.Invoke(bus);
            // Registries run behind firewalls: the bus must not call out to report how it is used.
            bus.ConfigureUsageTelemetryOptions(telemetry => telemetry.Enabled = false);
            bus.UsingRabbitMq((context, rabbit) =>
            {
                rabbit.Host(new Uri(options.RabbitMqUrl));
                // MassTransit indents its JSON by default. A batch of pulls is thousands of rows,
                // and the indentation made up a large share of every byte the publisher
                // wrote, the broker stored and delivered, and the consumer parsed.
                rabbit.ConfigureJsonSerializerOptions(json =>
                {
                    json.WriteIndented = false;
                    return json;
                });
                EventHandlerEndpoint.RetainForDurableSubscribers(rabbit);
                foreach (var handler in context.GetServices<IEventHandler>())
                    rabbit.ReceiveEndpoint(handler.Name, endpoint => EventHandlerEndpoint.Configure(endpoint, handler));
                rabbit.ConfigureEndpoints(context);
            });
        });
        // The bus starts with the host but never holds it up: the outbox keeps events until the broker is there.
        builder.Services.Configure<MassTransitHostOptions>(o =>
        {
            o.WaitUntilStarted = false;
            o.StartTimeout = TimeSpan.FromSeconds(30);
        });
        builder.Services.TryAddSingleton<IEventPublisher, MassTransitEventPublisher>();
        return builder;
    }
}
