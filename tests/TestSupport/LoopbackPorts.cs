using System.Net;
using System.Net.Sockets;

namespace Berth.TestSupport;

/// <summary>Ports for servers the tests start on loopback.</summary>
public static class LoopbackPorts
{
    /// <summary>A port free right now (the caller retries if another process takes it first).</summary>
    public static int Free()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>
    /// Waits until something accepts connections on the port; false when the
    /// deadline passes or the <paramref name="server"/> process exits first.
    /// </summary>
    public static async Task<bool> WaitUntilListeningAsync(int port, TimeSpan timeout, System.Diagnostics.Process? server = null)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            if (server is { HasExited: true }) return false;
            try
            {
                using var client = new TcpClient();
                using var attempt = new CancellationTokenSource(TimeSpan.FromSeconds(1));
                await client.ConnectAsync(IPAddress.Loopback, port, attempt.Token);
                return true;
            }
            catch (Exception e) when (e is SocketException or OperationCanceledException)
            {
                await Task.Delay(50);
            }
        }
        return false;
    }
}
