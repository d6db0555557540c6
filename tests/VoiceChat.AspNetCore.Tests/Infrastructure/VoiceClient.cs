using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using System.Threading.Channels;

namespace VoiceChat.Tests.Infrastructure;

/// <summary>One server frame as a test sees it.</summary>
internal sealed record ServerFrame(JsonElement? Json, byte[]? Audio, WebSocketCloseStatus? CloseStatus, string? CloseReason)
{
    public bool IsClose => Json is null && Audio is null;

    public string? Type => Json?.GetProperty("type").GetString();
}

/// <summary>A protocol v1 client over a real <see cref="ClientWebSocket"/>; a background loop reads every frame.</summary>
internal sealed class VoiceClient : IAsyncDisposable
{
    public static readonly TimeSpan DefaultWait = TimeSpan.FromSeconds(30);

    private readonly ClientWebSocket _socket;
    private readonly Channel<ServerFrame> _frames = Channel.CreateUnbounded<ServerFrame>();
    private readonly Task _reading;
    private readonly SemaphoreSlim _sendLock = new(1, 1);

    private VoiceClient(ClientWebSocket socket)
    {
        _socket = socket;
        _reading = ReadAsync();
    }

    /// <summary>Every model audio byte received so far.</summary>
    public MemoryStream Audio { get; } = new();

    /// <summary>Every JSON message received so far.</summary>
    public List<JsonElement> Messages { get; } = [];

    public WebSocket Socket => _socket;

    public static async Task<VoiceClient> ConnectAsync(Uri url, Action<ClientWebSocketOptions>? configure = null)
    {
        var socket = new ClientWebSocket();
        configure?.Invoke(socket.Options);
        using var timeout = new CancellationTokenSource(DefaultWait);
        await socket.ConnectAsync(url, timeout.Token);
        return new VoiceClient(socket);
    }

    public Task SendJsonAsync(string json) => SendAsync(Encoding.UTF8.GetBytes(json), WebSocketMessageType.Text);

    public Task SendAudioAsync(ReadOnlyMemory<byte> pcm) => SendAsync(pcm, WebSocketMessageType.Binary);

    /// <summary>Sends PCM as frames of <paramref name="frameBytes"/> (1280 bytes = 40 ms at 16 kHz).</summary>
    public async Task StreamAsync(byte[] pcm, int frameBytes = 1280)
    {
        for (var offset = 0; offset < pcm.Length; offset += frameBytes)
        {
            await SendAudioAsync(pcm.AsMemory(offset, Math.Min(frameBytes, pcm.Length - offset)));
        }
    }

    public async Task<JsonElement> StartAsync(string userId = "u1", string extraFields = "")
    {
        await SendJsonAsync($$"""{"type":"start_session","user_id":"{{userId}}"{{extraFields}}}""");
        return await WaitForAsync("session_started");
    }

    /// <summary>Reads until a JSON message of <paramref name="type"/>; audio and other messages on the way are kept.</summary>
    public async Task<JsonElement> WaitForAsync(string type, TimeSpan? timeout = null)
    {
        while (true)
        {
            var frame = await NextAsync(timeout);
            if (frame.IsClose)
            {
                throw new InvalidOperationException($"The server closed ({frame.CloseStatus} {frame.CloseReason}) before '{type}'. Messages: {Describe()}");
            }

            if (frame.Type == type)
            {
                return frame.Json!.Value;
            }
        }
    }

    /// <summary>Reads until the server closes; returns the close status.</summary>
    public async Task<WebSocketCloseStatus?> WaitForCloseAsync(TimeSpan? timeout = null)
    {
        while (true)
        {
            var frame = await NextAsync(timeout);
            if (frame.IsClose)
            {
                return frame.CloseStatus;
            }
        }
    }

    public async Task<ServerFrame> NextAsync(TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? DefaultWait);
        try
        {
            return await _frames.Reader.ReadAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"No frame from the server in {timeout ?? DefaultWait}. Messages so far: {Describe()}");
        }
    }

    /// <summary>Reads the next JSON message, skipping audio.</summary>
    public async Task<JsonElement> NextMessageAsync(TimeSpan? timeout = null)
    {
        while (true)
        {
            var frame = await NextAsync(timeout);
            if (frame.IsClose)
            {
                throw new InvalidOperationException($"The server closed ({frame.CloseStatus} {frame.CloseReason}). Messages: {Describe()}");
            }

            if (frame.Json is { } json)
            {
                return json;
            }
        }
    }

    public string Describe()
    {
        lock (Messages)
        {
            return string.Join(" ", Messages.Select(m => m.GetRawText())) + $" (+{Audio.Length} audio bytes)";
        }
    }

    public async Task CloseAsync()
    {
        if (_socket.State == WebSocketState.Open)
        {
            using var timeout = new CancellationTokenSource(DefaultWait);
            await _socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "bye", timeout.Token);
        }
    }

    public async ValueTask DisposeAsync()
    {
        _socket.Abort();
        try
        {
            await _reading;
        }
        catch (Exception)
        {
            // The reader ends with the socket.
        }

        _socket.Dispose();
        _sendLock.Dispose();
        Audio.Dispose();
    }

    private async Task SendAsync(ReadOnlyMemory<byte> data, WebSocketMessageType type)
    {
        await _sendLock.WaitAsync();
        try
        {
            using var timeout = new CancellationTokenSource(DefaultWait);
            await _socket.SendAsync(data, type, endOfMessage: true, timeout.Token);
        }
        finally
        {
            _sendLock.Release();
        }
    }

    private async Task ReadAsync()
    {
        var buffer = new byte[256 * 1024];
        try
        {
            while (true)
            {
                var length = 0;
                ValueWebSocketReceiveResult result;
                do
                {
                    result = await _socket.ReceiveAsync(buffer.AsMemory(length), CancellationToken.None);
                    length += result.Count;
                }
                while (!result.EndOfMessage && result.MessageType != WebSocketMessageType.Close);

                if (result.MessageType == WebSocketMessageType.Close)
                {
                    await _frames.Writer.WriteAsync(new ServerFrame(null, null, _socket.CloseStatus, _socket.CloseStatusDescription));
                    if (_socket.State == WebSocketState.CloseReceived)
                    {
                        await _socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, string.Empty, CancellationToken.None);
                    }

                    return;
                }

                if (result.MessageType == WebSocketMessageType.Binary)
                {
                    var audio = buffer.AsSpan(0, length).ToArray();
                    lock (Messages)
                    {
                        Audio.Write(audio);
                    }

                    await _frames.Writer.WriteAsync(new ServerFrame(null, audio, null, null));
                }
                else
                {
                    var json = JsonDocument.Parse(buffer.AsMemory(0, length)).RootElement.Clone();
                    lock (Messages)
                    {
                        Messages.Add(json);
                    }

                    await _frames.Writer.WriteAsync(new ServerFrame(json, null, null, null));
                }
            }
        }
        catch (WebSocketException)
        {
            await _frames.Writer.WriteAsync(new ServerFrame(null, null, null, "connection lost"));
        }
        finally
        {
            _frames.Writer.TryComplete();
        }
    }
}
