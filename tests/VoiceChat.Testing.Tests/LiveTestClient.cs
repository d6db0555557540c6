using System.Buffers.Binary;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using System.Threading.Channels;

namespace VoiceChat.Testing.Tests;

/// <summary>A raw Gemini Live client over <see cref="ClientWebSocket"/>: sends JSON, collects every server message.</summary>
internal sealed class LiveTestClient : IAsyncDisposable
{
    public const string DeveloperPath = "/ws/google.ai.generativelanguage.v1beta.GenerativeService.BidiGenerateContent";
    public const string VertexPath = "/ws/google.cloud.aiplatform.v1beta1.LlmBidiService/BidiGenerateContent";
    public const string Model25 = "gemini-2.5-flash-native-audio-preview-12-2025";
    public const string Model31 = "gemini-3.1-flash-live-preview";
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);

    private readonly ClientWebSocket _socket;
    private readonly Channel<ServerMessage> _messages = Channel.CreateUnbounded<ServerMessage>();
    private readonly Task _reader;

    private LiveTestClient(ClientWebSocket socket)
    {
        _socket = socket;
        _reader = Task.Run(ReadAsync);
    }

    public WebSocket Socket => _socket;

    public List<ServerMessage> Seen { get; } = [];

    public WebSocketCloseStatus? CloseStatus { get; private set; }

    public string? CloseDescription { get; private set; }

    public bool Aborted { get; private set; }

    public static Task<LiveTestClient> ConnectDeveloperAsync(LiveApiEmulator emulator, string key = "test-key", string path = DeveloperPath, bool keyInQuery = false) =>
        ConnectAsync(Address(emulator, path + (keyInQuery ? "?key=" + key : string.Empty)), o =>
        {
            if (!keyInQuery && key.Length > 0)
            {
                o.SetRequestHeader("x-goog-api-key", key);
            }
        });

    public static Task<LiveTestClient> ConnectVertexAsync(LiveApiEmulator emulator, string? token = "test-token", string path = VertexPath) =>
        ConnectAsync(Address(emulator, path), o =>
        {
            if (token is not null)
            {
                o.SetRequestHeader("Authorization", "Bearer " + token);
            }
        });

    /// <summary>Built as a string: <c>new Uri(base, "//ws/…")</c> would read "ws" as a host name.</summary>
    public static Uri Address(LiveApiEmulator emulator, string pathAndQuery) =>
        new($"ws://{emulator.BaseUrl.Authority}{pathAndQuery}");

    public static async Task<LiveTestClient> ConnectAsync(Uri uri, Action<ClientWebSocketOptions>? configure = null)
    {
        var socket = new ClientWebSocket();
        configure?.Invoke(socket.Options);
        using var cts = new CancellationTokenSource(Timeout);
        await socket.ConnectAsync(uri, cts.Token);
        return new LiveTestClient(socket);
    }

    /// <summary>Connects and completes setup; returns the client after <c>setupComplete</c>.</summary>
    public static async Task<LiveTestClient> StartAsync(LiveApiEmulator emulator, string setupFields = "", string model = Model25, bool vertex = false)
    {
        var client = vertex ? await ConnectVertexAsync(emulator) : await ConnectDeveloperAsync(emulator);
        var modelName = vertex ? $"projects/p1/locations/us-central1/publishers/google/models/{model}" : $"models/{model}";
        await client.SendAsync($$$"""{"setup":{"model":"{{{modelName}}}"{{{setupFields}}}}}""");
        await client.NextAsync(m => m.Has("setupComplete"));
        return client;
    }

    public Task SendAsync(string json, WebSocketMessageType type = WebSocketMessageType.Text) =>
        _socket.SendAsync(Encoding.UTF8.GetBytes(json), type, true, CancellationToken.None);

    public Task SendAudioAsync(ReadOnlySpan<byte> pcm, int rate = 16000) =>
        SendAsync($$$$"""{"realtimeInput":{"audio":{"data":"{{{{Convert.ToBase64String(pcm)}}}}","mimeType":"audio/pcm;rate={{{{rate}}}}"}}}""");

    /// <summary>Sends PCM in 20 ms chunks, as fast as the socket takes them (the emulator's detector counts samples, not time).</summary>
    public async Task StreamAudioAsync(byte[] pcm, int rate = 16000)
    {
        var chunk = rate / 50 * 2;
        for (var offset = 0; offset < pcm.Length; offset += chunk)
        {
            await SendAudioAsync(pcm.AsSpan(offset, Math.Min(chunk, pcm.Length - offset)), rate);
        }
    }

    /// <summary>The next message (after those already consumed) that matches; fails on timeout or close.</summary>
    public async Task<ServerMessage> NextAsync(Func<ServerMessage, bool> match)
    {
        using var cts = new CancellationTokenSource(Timeout);
        while (true)
        {
            ServerMessage message;
            try
            {
                message = await _messages.Reader.ReadAsync(cts.Token);
            }
            catch (ChannelClosedException)
            {
                throw new InvalidOperationException($"Connection ended ({CloseStatus} {CloseDescription}) while waiting; seen: {string.Join(" | ", Seen.Select(s => s.Json.Length > 200 ? s.Json[..200] : s.Json))}");
            }
            catch (OperationCanceledException)
            {
                throw new TimeoutException($"No matching message; seen: {string.Join(" | ", Seen.Select(s => s.Json.Length > 200 ? s.Json[..200] : s.Json))}");
            }

            Seen.Add(message);
            if (match(message))
            {
                return message;
            }
        }
    }

    /// <summary>Collects messages up to and including the first that matches.</summary>
    public async Task<List<ServerMessage>> CollectUntilAsync(Func<ServerMessage, bool> match)
    {
        var start = Seen.Count;
        await NextAsync(match);
        return Seen.Skip(start).ToList();
    }

    /// <summary>Waits for the connection to end; returns the messages that arrived before.</summary>
    public async Task<List<ServerMessage>> WaitForCloseAsync()
    {
        var start = Seen.Count;
        using var cts = new CancellationTokenSource(Timeout);
        await foreach (var message in _messages.Reader.ReadAllAsync(cts.Token))
        {
            Seen.Add(message);
        }

        await _reader.WaitAsync(Timeout);
        return Seen.Skip(start).ToList();
    }

    public async ValueTask DisposeAsync()
    {
        if (_socket.State == WebSocketState.Open)
        {
            try
            {
                using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(5));
                await _socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "done", cts.Token);
            }
            catch (Exception ex) when (ex is WebSocketException or OperationCanceledException)
            {
            }
        }

        _socket.Abort();
        await _reader.WaitAsync(Timeout).ContinueWith(_ => { }, TaskScheduler.Default);
        _socket.Dispose();
    }

    private async Task ReadAsync()
    {
        var buffer = new byte[64 * 1024];
        try
        {
            while (true)
            {
                using var message = new MemoryStream();
                WebSocketReceiveResult result;
                do
                {
                    result = await _socket.ReceiveAsync(buffer, CancellationToken.None);
                    if (result.MessageType == WebSocketMessageType.Close)
                    {
                        CloseStatus = result.CloseStatus;
                        CloseDescription = result.CloseStatusDescription;
                        if (_socket.State == WebSocketState.CloseReceived)
                        {
                            await _socket.CloseOutputAsync(result.CloseStatus ?? WebSocketCloseStatus.NormalClosure, string.Empty, CancellationToken.None);
                        }

                        return;
                    }

                    message.Write(buffer, 0, result.Count);
                }
                while (!result.EndOfMessage);

                _messages.Writer.TryWrite(new ServerMessage(Encoding.UTF8.GetString(message.ToArray()), result.MessageType));
            }
        }
        catch (Exception ex) when (ex is WebSocketException or ObjectDisposedException or OperationCanceledException)
        {
            Aborted = true;
        }
        finally
        {
            _messages.Writer.TryComplete();
        }
    }
}

/// <summary>One server message as received.</summary>
internal sealed class ServerMessage
{
    public ServerMessage(string json, WebSocketMessageType frameType)
    {
        Json = json;
        FrameType = frameType;
        Root = JsonDocument.Parse(json).RootElement.Clone();
    }

    public string Json { get; }

    public WebSocketMessageType FrameType { get; }

    public JsonElement Root { get; }

    public bool Has(string key) => Root.TryGetProperty(key, out _);

    public JsonElement? ServerContent => Root.TryGetProperty("serverContent", out var content) ? content : null;

    public bool IsContentFlag(string flag) => ServerContent is { } c && c.TryGetProperty(flag, out var v) && v.ValueKind == JsonValueKind.True;

    public bool IsTurnComplete => IsContentFlag("turnComplete");

    public byte[]? Audio
    {
        get
        {
            if (ServerContent is not { } c || !c.TryGetProperty("modelTurn", out var turn))
            {
                return null;
            }

            using var stream = new MemoryStream();
            foreach (var part in turn.GetProperty("parts").EnumerateArray())
            {
                if (part.TryGetProperty("inlineData", out var data))
                {
                    stream.Write(Convert.FromBase64String(data.GetProperty("data").GetString()!));
                }
            }

            return stream.Length > 0 ? stream.ToArray() : null;
        }
    }

    public string? AudioMimeType => ServerContent is { } c && c.TryGetProperty("modelTurn", out var turn)
        ? turn.GetProperty("parts")[0].TryGetProperty("inlineData", out var d) ? d.GetProperty("mimeType").GetString() : null
        : null;

    public (string Text, bool Finished)? Transcription(bool input) =>
        ServerContent is { } c && c.TryGetProperty(input ? "inputTranscription" : "outputTranscription", out var t)
            ? (t.TryGetProperty("text", out var text) ? text.GetString() ?? string.Empty : string.Empty,
               t.TryGetProperty("finished", out var f) && f.ValueKind == JsonValueKind.True)
            : null;
}

/// <summary>Test audio: speech-like tones and silence, PCM16 mono.</summary>
internal static class TestAudio
{
    /// <summary>A 300 Hz tone whose loudness is modulated at a syllable rate, like speech to an energy detector.</summary>
    public static byte[] Speech(TimeSpan duration, int rate = 16000)
    {
        var samples = (int)(duration.TotalSeconds * rate);
        var pcm = new byte[samples * 2];
        for (var i = 0; i < samples; i++)
        {
            var t = (double)i / rate;
            var envelope = 0.6 + (0.4 * Math.Sin(2 * Math.PI * 3 * t));
            BinaryPrimitives.WriteInt16LittleEndian(pcm.AsSpan(i * 2), (short)(Math.Sin(2 * Math.PI * 300 * t) * envelope * 10000));
        }

        return pcm;
    }

    public static byte[] Silence(TimeSpan duration, int rate = 16000) => new byte[(int)(duration.TotalSeconds * rate) * 2];

    public static byte[] Concat(params byte[][] parts) => parts.SelectMany(p => p).ToArray();

    /// <summary>Speech then enough silence to end the utterance.</summary>
    public static byte[] Utterance(TimeSpan speech, int rate = 16000) => Concat(Speech(speech, rate), Silence(TimeSpan.FromMilliseconds(800), rate));
}
