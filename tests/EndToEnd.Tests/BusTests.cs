using System.Collections.Concurrent;
using System.Net;
using System.Text;
using Berth.Contracts.Registry;
using Berth.TestSupport;
using MassTransit;

namespace Berth.EndToEnd.Tests;

/// <summary>
/// Events over a real RabbitMQ: the Server (its own process) publishes through
/// its outbox, a consumer in this process receives them; stopping the broker in
/// the middle of a stream of pushes loses no event.
/// </summary>
public sealed class BusTests
{
    [SkippableFact]
    public async Task A_push_reaches_a_consumer_in_another_process_and_a_broker_outage_loses_no_event()
    {
        await using var broker = await RabbitMqServer.StartAsync();
        using var data = new TempDirectory("berth-bus");
        using var server = await ServerProcess.StartAsync(data.Path, "--Bus:Transport", "rabbitmq", "--Bus:RabbitMqUrl", broker.Url, "--Logging:LogLevel:MassTransit", "Information", "--Logging:LogLevel:Berth", "Information");
        var consumer = new IdempotentConsumer();
        var bus = Bus.Factory.CreateUsingRabbitMq(rabbit =>
        {
            rabbit.Host(new Uri(broker.Url));
            rabbit.ReceiveEndpoint($"berth-e2e-{Guid.NewGuid():N}", endpoint =>
            {
                endpoint.Durable = true;
                endpoint.AutoDelete = false;
                endpoint.Handler<ManifestPushed>(context => consumer.HandleAsync(context.Message));
            });
        });
        await bus.StartAsync(new CancellationTokenSource(TimeSpan.FromSeconds(60)).Token);
        try
        {
            using var http = server.CreateClient();
            var first = await PushAsync(http, 0);
            await WaitUntilAsync(() => consumer.Processed.ContainsKey(first), TimeSpan.FromSeconds(30), "the first push's event never arrived");
            Assert.Equal("bus/app", consumer.Processed[first].Repository);

            // A stream of pushes goes on while the broker stops, stays down and comes back.
            var pushed = new ConcurrentQueue<string>([first]);
            using var stopPushing = new CancellationTokenSource();
            var stream = Task.Run(async () =>
            {
                for (var i = 1; !stopPushing.IsCancellationRequested; i++)
                {
                    pushed.Enqueue(await PushAsync(http, i));
                    await Task.Delay(50);
                }
            });
            await WaitUntilAsync(() => pushed.Count > 5, TimeSpan.FromSeconds(30), "pushes did not start");
            await broker.StopNodeAsync();
            var whileDown = pushed.Count + 10;
            await WaitUntilAsync(() => pushed.Count > whileDown || stream.IsCompleted, TimeSpan.FromSeconds(30), "pushes stalled while the broker was down");
            await broker.StartNodeAsync();
            var afterRestart = pushed.Count + 5;
            await WaitUntilAsync(() => pushed.Count > afterRestart || stream.IsCompleted, TimeSpan.FromSeconds(30), "pushes stalled after the broker came back");
            await stopPushing.CancelAsync();
            try
            {
                await stream;
            }
            catch (HttpRequestException e)
            {
                Assert.Fail($"a push failed: {e.Message}; server exited: {server.Process.HasExited}; it said:\n{server.Tail()}");
            }

            Assert.True(pushed.Count > 20, $"only {pushed.Count} pushes");
            await WaitUntilAsync(() => pushed.All(consumer.Processed.ContainsKey), TimeSpan.FromSeconds(90),
                () => $"events missing for {pushed.Count(d => !consumer.Processed.ContainsKey(d))} of {pushed.Count} pushes; server said:\n{server.Tail()}");
            // Each committed push was processed exactly once, whatever the broker redelivered.
            Assert.Equal(pushed.Count, consumer.Processed.Count);
            Assert.Equal(pushed.Count, consumer.ProcessedEventIds.Count);
        }
        finally
        {
            await bus.StopAsync();
        }
    }

    private static Task WaitUntilAsync(Func<bool> condition, TimeSpan timeout, string failure) => WaitUntilAsync(condition, timeout, () => failure);

    private static async Task WaitUntilAsync(Func<bool> condition, TimeSpan timeout, Func<string> failure)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline) Assert.Fail(failure());
            await Task.Delay(100);
        }
    }

    /// <summary>A distinct one-layer image as bus/app:&lt;i&gt;; every push must succeed, broker or not.</summary>
    private static Task<string> PushAsync(HttpClient http, int i) =>
        ImagePushes.PushAsync(http, "bus/app", i.ToString(System.Globalization.CultureInfo.InvariantCulture), $"n{i}", Encoding.UTF8.GetBytes($"layer {i} {Guid.NewGuid()}"));

    /// <summary>A consumer that acts on each event id once: delivery is at least once, processing exactly once.</summary>
    private sealed class IdempotentConsumer
    {
        public ConcurrentDictionary<Guid, bool> ProcessedEventIds { get; } = new();
        public ConcurrentDictionary<string, ManifestPushed> Processed { get; } = new();

        public Task HandleAsync(ManifestPushed message)
        {
            if (ProcessedEventIds.TryAdd(message.EventId, true)) Processed[message.Digest] = message;
            return Task.CompletedTask;
        }
    }
}
