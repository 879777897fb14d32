namespace Berth.AuditLog.Tests.Splunk;

/// <summary>
/// The collector the Splunk tests ship to: a real HEC when BERTH_TEST_SPLUNK_HEC_URL and
/// BERTH_TEST_SPLUNK_HEC_TOKEN are set (BERTH_TEST_SPLUNK_HEC_ACK_TOKEN: a token with
/// indexer acknowledgement on; BERTH_TEST_SPLUNK_INDEX: the index, else the token's
/// default), otherwise a <see cref="FakeSplunkHec"/>. What a test checks at the
/// collector itself, and every injected fault, needs the fake: <see cref="Fake"/> is
/// null against a real Splunk and those parts are skipped.
/// </summary>
public sealed record SplunkHecTarget(string Url, string Token, string? Index, string Host, bool UseAcks, FakeSplunkHec? Fake) : IAsyncDisposable
{
    public static bool RealSplunk => !string.IsNullOrEmpty(Environment.GetEnvironmentVariable("BERTH_TEST_SPLUNK_HEC_URL"));

    /// <summary>The collector, or null when a real Splunk is configured without what the test needs (a token with acks).</summary>
    public static async Task<SplunkHecTarget?> StartAsync(bool acks = false)
    {
        const string host = "berth-test";
        if (!RealSplunk)
        {
            var fake = await FakeSplunkHec.StartAsync(host: host, acks: acks);
            return new SplunkHecTarget(fake.Url, fake.Token, fake.Index, host, acks, fake);
        }
        var token = Environment.GetEnvironmentVariable(acks ? "BERTH_TEST_SPLUNK_HEC_ACK_TOKEN" : "BERTH_TEST_SPLUNK_HEC_TOKEN");
        if (string.IsNullOrEmpty(token)) return null;
        var index = Environment.GetEnvironmentVariable("BERTH_TEST_SPLUNK_INDEX");
        return new SplunkHecTarget(Environment.GetEnvironmentVariable("BERTH_TEST_SPLUNK_HEC_URL")!, token,
            string.IsNullOrEmpty(index) ? null : index, host, acks, null);
    }

    public async ValueTask DisposeAsync()
    {
        if (Fake is not null) await Fake.DisposeAsync();
    }
}
