using System.Net;
using System.Net.Sockets;

namespace VoiceChat.Tests.Live.Integration;

/// <summary>
/// A loopback TCP proxy in front of a server whose open connections can be made to go silent: the
/// bytes of both directions are swallowed while both sockets stay open, as on a network path that
/// died without a word. Connections opened later are forwarded. The end of a connection still
/// passes: it stands for the far end's own timeout, which notices the dead path in the end.
/// </summary>
internal sealed class SilentNetworkProxy : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly Uri _target;
    private readonly CancellationTokenSource _stop = new();
    private readonly Lock _gate = new();
    private readonly List<Link> _links = [];
    private readonly Task _accepting;

    public SilentNetworkProxy(Uri target)
    {
        _target = target;
        _listener.Start();
        BaseUrl = new Uri($"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}");
        _accepting = AcceptAsync();
    }

    public Uri BaseUrl { get; }

    /// <summary>Every connection open now stops carrying bytes, in both directions.</summary>
    public void SilenceOpenConnections()
    {
        lock (_gate)
        {
            foreach (var link in _links)
            {
                link.Silent = true;
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        try
        {
            await _accepting;
        }
        catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
        {
        }

        lock (_gate)
        {
            foreach (var link in _links)
            {
                link.Dispose();
            }
        }

        _stop.Dispose();
    }

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            var client = await _listener.AcceptTcpClientAsync(_stop.Token);
            var server = new TcpClient();
            await server.ConnectAsync(_target.Host, _target.Port, _stop.Token);
            var link = new Link(client, server);
            lock (_gate)
            {
                _links.Add(link);
            }

            link.Start(_stop.Token);
        }
    }

    private sealed class Link(TcpClient client, TcpClient server) : IDisposable
    {
        public volatile bool Silent;

        public void Start(CancellationToken cancellationToken)
        {
            _ = PumpAsync(client.GetStream(), server.GetStream(), cancellationToken);
            _ = PumpAsync(server.GetStream(), client.GetStream(), cancellationToken);
        }

        public void Dispose()
        {
            client.Dispose();
            server.Dispose();
        }

        private async Task PumpAsync(NetworkStream from, NetworkStream to, CancellationToken cancellationToken)
        {
            var buffer = new byte[16 * 1024];
            try
            {
                while (true)
                {
                    var read = await from.ReadAsync(buffer, cancellationToken);
                    if (read == 0)
                    {
                        Dispose();
                        return;
                    }

                    if (!Silent)
                    {
                        await to.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
                    }
                }
            }
            catch (Exception ex) when (ex is OperationCanceledException or IOException or ObjectDisposedException or SocketException)
            {
                Dispose();
            }
        }
    }
}
