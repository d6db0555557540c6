using System.Net.WebSockets;
using System.Text;
using System.Text.Json;

namespace VoiceChat.Tests.Infrastructure;

/// <summary>
/// A client that speaks the resumable side of the protocol as docs/protocol.md describes it: it
/// counts the numbered server messages it receives and acknowledges them, keeps its microphone
/// frames until the server says they arrived, and on a new connection sends its resume token and
/// count, then resends what the server did not get.
/// </summary>
internal sealed class ResumingClient : IAsyncDisposable
{
    private static readonly HashSet<string> NumberedTypes = ["transcript", "interrupted", "turn_complete", "tool_call"];

    private readonly string _userId;
    private readonly List<byte[]> _sent = [];
    private readonly Lock _gate = new();
    private readonly SemaphoreSlim _sendLock = new(1, 1);
    private ClientWebSocket? _socket;
    private Task _reading = Task.CompletedTask;
    private TaskCompletionSource<JsonElement> _started = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _serverReceived;

    public ResumingClient(Uri url, string userId = "u1")
    {
        Url = url;
        _userId = userId;
    }

    /// <summary>Where the next connection goes (another instance, after <c>going_away</c>).</summary>
    public Uri Url { get; set; }

    public string? ResumeToken { get; private set; }

    /// <summary>Numbered server messages received, over every connection.</summary>
    public long Received { get; private set; }

    /// <summary>Model audio received, over every connection, in order.</summary>
    public MemoryStream Audio { get; } = new();

    /// <summary>Text messages of every connection, in order (numbered or not).</summary>
    public List<JsonElement> Messages { get; } = [];

    /// <summary>The last <c>session_started</c>.</summary>
    public JsonElement Started { get; private set; }

    public int Connections { get; private set; }

    /// <summary>Frames sent that the server has not yet said it received.</summary>
    public int Unacknowledged
    {
        get
        {
            lock (_gate)
            {
                return (int)(_sent.Count - _serverReceived);
            }
        }
    }

    public long AudioLength
    {
        get
        {
            lock (_gate)
            {
                return Audio.Length;
            }
        }
    }

    public WebSocket Socket => _socket!;

    /// <summary>Opens a connection and starts the session, or resumes it when there is a token.</summary>
    public async Task<JsonElement> ConnectAsync()
    {
        _socket = new ClientWebSocket();
        Connections++;
        _started = new TaskCompletionSource<JsonElement>(TaskCreationOptions.RunContinuationsAsynchronously);
        using var timeout = new CancellationTokenSource(VoiceClient.DefaultWait);
        await _socket.ConnectAsync(Url, timeout.Token);
        _reading = ReadAsync(_socket);
        var start = ResumeToken is null
            ? $$"""{"type":"start_session","user_id":"{{_userId}}","received":0}"""
            : $$"""{"type":"start_session","user_id":"{{_userId}}","resume_token":"{{ResumeToken}}","received":{{Received}}}""";
        await SendAsync(Encoding.UTF8.GetBytes(start), WebSocketMessageType.Text);
        Started = await _started.Task.WaitAsync(VoiceClient.DefaultWait);

        if (Started.GetProperty("resumed").GetBoolean())
        {
            // What the server did not get goes again, in order.
            List<byte[]> resend;
            lock (_gate)
            {
                _serverReceived = Started.GetProperty("received").GetInt64();
                resend = _sent.Skip((int)_serverReceived).ToList();
            }

            foreach (var frame in resend)
            {
                await SendAsync(frame, WebSocketMessageType.Binary);
            }
        }

        return Started;
    }

    /// <summary>Says <paramref name="pcm"/> (16 kHz) in 20 ms frames.</summary>
    public async Task SayAsync(byte[] pcm)
    {
        const int frameBytes = 640;
        for (var offset = 0; offset < pcm.Length; offset += frameBytes)
        {
            await SendAudioAsync(pcm.AsSpan(offset, Math.Min(frameBytes, pcm.Length - offset)).ToArray());
        }
    }

    /// <summary>Sends a microphone frame, keeping it until the server acknowledges it.</summary>
    public async Task SendAudioAsync(byte[] frame)
    {
        lock (_gate)
        {
            _sent.Add(frame);
        }

        try
        {
            await SendAsync(frame, WebSocketMessageType.Binary);
        }
        catch (Exception ex) when (ex is WebSocketException or ObjectDisposedException or OperationCanceledException)
        {
            // Offline: the frame goes again after the resume.
        }
    }

    /// <summary>Everything sent, in order, as one buffer.</summary>
    public byte[] AllSent()
    {
        lock (_gate)
        {
            return _sent.SelectMany(f => f).ToArray();
        }
    }

    /// <summary>Drops the connection the way a phone losing its network does: no close frame.</summary>
    public async Task CutAsync()
    {
        _socket!.Abort();
        await _reading.WaitAsync(VoiceClient.DefaultWait).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
    }

    public async Task WaitForAudioAsync(long bytes)
    {
        using var timeout = new CancellationTokenSource(VoiceClient.DefaultWait);
        while (AudioLength < bytes)
        {
            await Task.Delay(10, timeout.Token);
        }
    }

    public int CountOf(string type)
    {
        lock (_gate)
        {
            return Messages.Count(m => m.GetProperty("type").GetString() == type);
        }
    }

    /// <summary>Waits for a text message at or after index <paramref name="from"/> that <paramref name="match"/> accepts.</summary>
    public async Task<JsonElement> WaitForAsync(Func<JsonElement, bool> match, int from)
    {
        using var timeout = new CancellationTokenSource(VoiceClient.DefaultWait);
        while (true)
        {
            lock (_gate)
            {
                for (var i = from; i < Messages.Count; i++)
                {
                    if (match(Messages[i]))
                    {
                        return Messages[i];
                    }
                }
            }

            await Task.Delay(10, timeout.Token);
        }
    }

    public async Task<JsonElement> WaitForAsync(string type, int skip = 0)
    {
        using var timeout = new CancellationTokenSource(VoiceClient.DefaultWait);
        while (true)
        {
            lock (_gate)
            {
                var found = Messages.Where(m => m.GetProperty("type").GetString() == type).Skip(skip).Take(1).ToList();
                if (found.Count == 1)
                {
                    return found[0];
                }
            }

            await Task.Delay(10, timeout.Token);
        }
    }

    public async ValueTask DisposeAsync()
    {
        _socket?.Abort();
        await _reading.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _socket?.Dispose();
        _sendLock.Dispose();
        Audio.Dispose();
    }

    private async Task SendAsync(ReadOnlyMemory<byte> data, WebSocketMessageType type)
    {
        // One send at a time: the reader's acknowledgements share the socket with the microphone.
        await _sendLock.WaitAsync();
        try
        {
            using var timeout = new CancellationTokenSource(VoiceClient.DefaultWait);
            await _socket!.SendAsync(data, type, endOfMessage: true, timeout.Token);
        }
        finally
        {
            _sendLock.Release();
        }
    }

    private async Task ReadAsync(ClientWebSocket socket)
    {
        var buffer = new byte[256 * 1024];
        var sinceAck = 0;
        try
        {
            while (true)
            {
                var length = 0;
                ValueWebSocketReceiveResult result;
                do
                {
                    result = await socket.ReceiveAsync(buffer.AsMemory(length), CancellationToken.None);
                    length += result.Count;
                }
                while (!result.EndOfMessage && result.MessageType != WebSocketMessageType.Close);

                if (result.MessageType == WebSocketMessageType.Close)
                {
                    return;
                }

                var numbered = result.MessageType == WebSocketMessageType.Binary;
                lock (_gate)
                {
                    if (numbered)
                    {
                        Audio.Write(buffer, 0, length);
                    }
                    else
                    {
                        var json = JsonDocument.Parse(buffer.AsMemory(0, length)).RootElement.Clone();
                        Messages.Add(json);
                        var type = json.GetProperty("type").GetString()!;
                        numbered = NumberedTypes.Contains(type);
                        if (type == "ack")
                        {
                            _serverReceived = Math.Max(_serverReceived, json.GetProperty("received").GetInt64());
                        }
                        else if (type == "session_started")
                        {
                            ResumeToken = json.GetProperty("resume_token").GetString();
                            _started.TrySetResult(json);
                        }
                    }

                    if (numbered)
                    {
                        Received++;
                    }
                }

                if (numbered && ++sinceAck == 5)
                {
                    sinceAck = 0;
                    await SendAsync(Encoding.UTF8.GetBytes($$"""{"type":"ack","received":{{Received}}}"""), WebSocketMessageType.Text);
                }
            }
        }
        catch (Exception ex) when (ex is WebSocketException or ObjectDisposedException or OperationCanceledException)
        {
            // The connection is gone; a resume opens the next one.
        }
    }
}
