using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;

namespace VoiceChat.Benchmarks;

/// <summary>
/// The far end of a benchmarked upstream connection: a loopback TCP server that completes the
/// WebSocket upgrade, confirms the Gemini <c>setup</c> with <c>{"setupComplete":{}}</c>, then reads
/// and discards everything on a dedicated thread into one fixed buffer. It allocates nothing while
/// the benchmark runs, so whatever is allocated during a measurement is the code under test.
/// </summary>
internal sealed class LoopbackSink : IDisposable
{
    private static readonly byte[] SetupComplete = Encoding.UTF8.GetBytes("""{"setupComplete":{}}""");

    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly Thread _thread;
    private Socket? _peer;
    private long _bytesReceived;

    public LoopbackSink()
    {
        _listener.Start();
        Uri = new Uri($"ws://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}/ws/sink");
        _thread = new Thread(Run) { IsBackground = true, Name = "loopback sink" };
        _thread.Start();
    }

    public Uri Uri { get; }

    public long BytesReceived => Interlocked.Read(ref _bytesReceived);

    public void Dispose()
    {
        _listener.Stop();
        _peer?.Dispose();
    }

    private void Run()
    {
        try
        {
            _peer = _listener.AcceptSocket();
            _peer.NoDelay = true;
            Handshake(_peer);
            var buffer = new byte[256 * 1024];
            int read;
            while ((read = _peer.Receive(buffer)) > 0)
            {
                Interlocked.Add(ref _bytesReceived, read);
            }
        }
        catch (SocketException)
        {
            // Disposed.
        }
        catch (ObjectDisposedException)
        {
        }
    }

    private static void Handshake(Socket socket)
    {
        var request = new StringBuilder();
        var one = new byte[1];
        while (!request.ToString().EndsWith("\r\n\r\n", StringComparison.Ordinal))
        {
            if (socket.Receive(one) == 0)
            {
                throw new SocketException((int)SocketError.ConnectionReset);
            }

            request.Append((char)one[0]);
        }

        var key = request.ToString().Split("\r\n")
            .First(line => line.StartsWith("Sec-WebSocket-Key:", StringComparison.OrdinalIgnoreCase))
            .Split(':', 2)[1].Trim();
#pragma warning disable CA5350 // RFC 6455 defines Sec-WebSocket-Accept with SHA-1; it is not used for security here.
        var accept = Convert.ToBase64String(SHA1.HashData(Encoding.ASCII.GetBytes(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11")));
#pragma warning restore CA5350
        socket.Send(Encoding.ASCII.GetBytes(
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " + accept + "\r\n\r\n"));

        // One unmasked binary frame (as the Developer API sends JSON), payload under 126 bytes.
        var frame = new byte[2 + SetupComplete.Length];
        frame[0] = 0x82;
        frame[1] = (byte)SetupComplete.Length;
        SetupComplete.CopyTo(frame, 2);
        socket.Send(frame);
    }
}
