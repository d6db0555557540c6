using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Text;
using VoiceChat.Live.WebSockets;

namespace VoiceChat.Tests.Live.WebSockets;

/// <summary>
/// A WebSocket server written byte by byte on a loopback TCP socket: it answers one upgrade as told
/// and then sends whatever frames a test crafts, so the client's handling of fragmented messages,
/// control frames and protocol errors can be driven exactly.
/// </summary>
internal sealed class RawWebSocketServer : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly Task<NetworkStream> _accepted;

    /// <param name="answer">The upgrade answer for the client's key; null answers a correct 101.</param>
    public RawWebSocketServer(Func<string, string>? answer = null)
    {
        _listener.Start();
        Uri = new Uri($"ws://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}/ws/test");
        _accepted = AcceptAsync(answer ?? (key => Upgrade(key)));
    }

    /// <summary>A correct 101 answer to <paramref name="key"/>, with <paramref name="extraHeaders"/> (each ending in CRLF) added.</summary>
    public static string Upgrade(string key, string extraHeaders = "") =>
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
        $"Sec-WebSocket-Accept: {WebSocketUpgrade.AcceptFor(key)}\r\n{extraHeaders}\r\n";

    public Uri Uri { get; }

    /// <summary>The request head the client sent.</summary>
    public string RequestHead { get; private set; } = string.Empty;

    public Task<NetworkStream> Connection => _accepted;

    /// <summary>Sends one unmasked frame, as a server does.</summary>
    public async Task SendFrameAsync(int opcode, byte[] payload, bool final = true, bool masked = false)
    {
        var stream = await _accepted;
        var header = new List<byte> { (byte)((final ? 0x80 : 0) | opcode) };
        var maskBit = masked ? 0x80 : 0;
        if (payload.Length < 126)
        {
            header.Add((byte)(maskBit | payload.Length));
        }
        else if (payload.Length <= ushort.MaxValue)
        {
            header.Add((byte)(maskBit | 126));
            var length = new byte[2];
            BinaryPrimitives.WriteUInt16BigEndian(length, (ushort)payload.Length);
            header.AddRange(length);
        }
        else
        {
            header.Add((byte)(maskBit | 127));
            var length = new byte[8];
            BinaryPrimitives.WriteUInt64BigEndian(length, (ulong)payload.Length);
            header.AddRange(length);
        }

        if (masked)
        {
            header.AddRange(new byte[] { 1, 2, 3, 4 });
            payload = payload.Select((b, i) => (byte)(b ^ (i % 4 + 1))).ToArray();
        }

        await stream.WriteAsync(header.Concat(payload).ToArray());
    }

    /// <summary>Reads one frame from the client; fails unless it is masked, and returns it unmasked.</summary>
    public async Task<ClientFrame> ReadFrameAsync()
    {
        var stream = await _accepted;
        var head = new byte[2];
        await stream.ReadExactlyAsync(head);
        ((head[1] & 0x80) != 0).Should().BeTrue("a client masks every frame");
        long length = head[1] & 0x7F;
        if (length == 126)
        {
            var wide = new byte[2];
            await stream.ReadExactlyAsync(wide);
            length = BinaryPrimitives.ReadUInt16BigEndian(wide);
        }
        else if (length == 127)
        {
            var wide = new byte[8];
            await stream.ReadExactlyAsync(wide);
            length = (long)BinaryPrimitives.ReadUInt64BigEndian(wide);
        }

        var key = new byte[4];
        await stream.ReadExactlyAsync(key);
        var payload = new byte[length];
        await stream.ReadExactlyAsync(payload);
        for (var i = 0; i < payload.Length; i++)
        {
            payload[i] ^= key[i % 4];
        }

        return new ClientFrame((head[0] & 0x80) != 0, head[0] & 0x0F, key, payload);
    }

    /// <summary>Sends a close frame with <paramref name="code"/> and no reason.</summary>
    public Task SendCloseAsync(int code)
    {
        var payload = new byte[2];
        BinaryPrimitives.WriteUInt16BigEndian(payload, (ushort)code);
        return SendFrameAsync(8, payload);
    }

    /// <summary>True when the client's side of the connection ends (after whatever frames came before it were read).</summary>
    public async Task<bool> EndsAsync()
    {
        var stream = await _accepted;
        try
        {
            return await stream.ReadAsync(new byte[1]) == 0;
        }
        catch (IOException)
        {
            return true; // reset
        }
    }

    public async ValueTask DisposeAsync()
    {
        _listener.Stop();
        try
        {
            (await _accepted).Dispose();
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException or IOException)
        {
        }
    }

    private async Task<NetworkStream> AcceptAsync(Func<string, string> answer)
    {
        var client = await _listener.AcceptTcpClientAsync();
        var stream = client.GetStream();
        var head = new StringBuilder();
        var one = new byte[1];
        while (!head.ToString().EndsWith("\r\n\r\n", StringComparison.Ordinal))
        {
            await stream.ReadExactlyAsync(one);
            head.Append((char)one[0]);
        }

        RequestHead = head.ToString();
        var key = RequestHead.Split("\r\n").Single(l => l.StartsWith("Sec-WebSocket-Key:", StringComparison.OrdinalIgnoreCase))["Sec-WebSocket-Key:".Length..].Trim();
        await stream.WriteAsync(Encoding.ASCII.GetBytes(answer(key)));
        return stream;
    }

    internal sealed record ClientFrame(bool Final, int Opcode, byte[] Key, byte[] Payload)
    {
        public string Text => Encoding.UTF8.GetString(Payload);

        /// <summary>A close frame's code; 1005 when it carries none.</summary>
        public int CloseCode => Payload.Length >= 2 ? BinaryPrimitives.ReadUInt16BigEndian(Payload) : 1005;
    }
}
