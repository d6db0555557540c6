using System.Buffers;
using System.Net.WebSockets;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using VoiceChat.Buffers;

namespace VoiceChat.Live.Gemini;

/// <summary>
/// One Gemini Live WebSocket connection: a serialised writer, one reader loop that turns the
/// service's messages (text or binary frames) into <see cref="LiveEvent"/>s, and the handshake.
/// </summary>
internal sealed partial class GeminiLiveConnection : ILiveConnection
{
    /// <summary>The largest message from the service; the framing fails the connection over it (close 1009).</summary>
    public const int MaxMessageBytes = 16 * 1024 * 1024;

    private const int EventCapacity = 64;
    private const int InitialReceiveBytes = 16 * 1024;
    private static readonly TimeSpan CloseTimeout = TimeSpan.FromSeconds(2);

    private readonly WebSocket _socket;
    private readonly GeminiModelFamily _family;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly string _connectionId;
    private readonly SemaphoreSlim _sendLock = new(1, 1);
    private readonly PooledBufferWriter _sendBuffer = new(8 * 1024);
    private readonly Utf8JsonWriter _json;
    private readonly JsonEncodedText _audioMimeType;
    // The waiting reader (the session's model pump) continues on the read loop's thread.
    private readonly LiveEventQueue _events = new(EventCapacity);
    private readonly GeminiServerMessageReader _messages = new();
    private readonly List<LiveEvent> _parsed = [];
    private readonly CancellationTokenSource _readerStop = new();
    private readonly TaskCompletionSource _setupCompleted = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Task _readerLoop = Task.CompletedTask;
    private volatile bool _closeRequested;
    private int _disposed;
    private bool _warnedSampleRate;

    private GeminiLiveConnection(WebSocket socket, GeminiModelFamily family, int inputSampleRate, TimeProvider time, ILogger logger, string connectionId)
    {
        _socket = socket;
        _family = family;
        _time = time;
        _logger = logger;
        _connectionId = connectionId;
        _json = new Utf8JsonWriter(_sendBuffer);
        _audioMimeType = JsonEncodedText.Encode($"audio/pcm;rate={inputSampleRate}");
    }

    /// <summary>
    /// Takes over an open socket: sends <paramref name="setup"/>, waits for <c>setupComplete</c> (within
    /// <paramref name="setupTimeout"/>) and returns the running connection. Throws <see cref="LiveConnectionException"/>.
    /// </summary>
    public static async Task<GeminiLiveConnection> StartAsync(
        WebSocket socket,
        byte[] setup,
        GeminiModelFamily family,
        int inputSampleRate,
        TimeSpan setupTimeout,
        TimeProvider time,
        ILogger logger,
        string connectionId,
        CancellationToken cancellationToken)
    {
        var connection = new GeminiLiveConnection(socket, family, inputSampleRate, time, logger, connectionId);
        try
        {
            using var timeout = new CancellationTokenSource(setupTimeout, time);
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(timeout.Token, cancellationToken);
            try
            {
                await socket.SendAsync(setup, WebSocketMessageType.Text, endOfMessage: true, linked.Token).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is WebSocketException or IOException)
            {
                throw new LiveConnectionException(GeminiCloseClassifier.ConnectFailed, "sending setup failed: " + ex.Message, ex);
            }

            connection._readerLoop = connection.ReadLoopAsync();
            var completed = await Task.WhenAny(connection._setupCompleted.Task, connection._readerLoop, Task.Delay(Timeout.InfiniteTimeSpan, linked.Token)).ConfigureAwait(false);
            if (completed == connection._setupCompleted.Task)
            {
                return connection;
            }

            if (completed == connection._readerLoop)
            {
                // The service closed before confirming the setup: its close says why.
                var closed = await connection.ReceiveAsync(CancellationToken.None).ConfigureAwait(false);
                while (closed.Kind != LiveEventKind.Closed)
                {
                    closed = await connection.ReceiveAsync(CancellationToken.None).ConfigureAwait(false);
                }

                var error = closed.Error ?? GeminiCloseClassifier.NotResumable;
                throw new LiveConnectionException(error, connection.CloseDetail);
            }

            cancellationToken.ThrowIfCancellationRequested();
            throw new LiveConnectionException(GeminiCloseClassifier.SetupTimedOut, $"no setupComplete within {setupTimeout}");
        }
        catch
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>The service's close code and reason, for logs.</summary>
    public string? CloseDetail { get; private set; }

    // {"realtimeInput":{"audio":{"mimeType":"audio/pcm;rate=16000","data":"<base64>"}}}
    public ValueTask SendAudioAsync(ReadOnlyMemory<byte> pcm16, CancellationToken cancellationToken) =>
        SendBlobAsync(Names.Audio, _audioMimeType, pcm16, cancellationToken);

    // {"realtimeInput":{"video":{"mimeType":"image/jpeg","data":"<base64>"}}}
    public ValueTask SendVideoAsync(ReadOnlyMemory<byte> image, string mimeType, CancellationToken cancellationToken) =>
        SendBlobAsync(Names.Video, mimeType == "image/png" ? Names.Png : Names.Jpeg, image, cancellationToken);

    /// <summary>One <c>realtimeInput</c> Blob. The writer and its buffer are reused under the send lock: no allocation per frame.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask SendBlobAsync(JsonEncodedText field, JsonEncodedText mimeType, ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        await _sendLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            Begin();
            _json.WriteStartObject(Names.RealtimeInput);
            _json.WriteStartObject(field);
            _json.WriteString(Names.MimeType, mimeType);
            _json.WriteBase64String(Names.Data, data.Span);
            _json.WriteEndObject();
            _json.WriteEndObject();
            await SendBufferedAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _sendLock.Release();
        }
    }

    public async ValueTask SendTextAsync(string text, CancellationToken cancellationToken)
    {
        await _sendLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            Begin();
            if (_family == GeminiModelFamily.Gemini3)
            {
                // Gemini 3 refuses clientContent after the start of the conversation.
                _json.WriteStartObject(Names.RealtimeInput);
                _json.WriteString(Names.Text, text);
                _json.WriteEndObject();
            }
            else
            {
                _json.WriteStartObject("clientContent");
                _json.WriteStartArray("turns");
                _json.WriteStartObject();
                _json.WriteString("role", "user");
                _json.WriteStartArray("parts");
                _json.WriteStartObject();
                _json.WriteString(Names.Text, text);
                _json.WriteEndObject();
                _json.WriteEndArray();
                _json.WriteEndObject();
                _json.WriteEndArray();
                _json.WriteBoolean("turnComplete", true);
                _json.WriteEndObject();
            }

            await SendBufferedAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _sendLock.Release();
        }
    }

    public ValueTask SendActivityStartAsync(CancellationToken cancellationToken) => SendRealtimeSignalAsync("activityStart", cancellationToken);

    public ValueTask SendActivityEndAsync(CancellationToken cancellationToken) => SendRealtimeSignalAsync("activityEnd", cancellationToken);

    public async ValueTask SendAudioStreamEndAsync(CancellationToken cancellationToken)
    {
        await _sendLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            Begin();
            _json.WriteStartObject(Names.RealtimeInput);
            _json.WriteBoolean("audioStreamEnd", true);
            _json.WriteEndObject();
            await SendBufferedAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _sendLock.Release();
        }
    }

    public async ValueTask SendToolResponsesAsync(IReadOnlyList<LiveToolResult> results, CancellationToken cancellationToken)
    {
        await _sendLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            Begin();
            _json.WriteStartObject("toolResponse");
            _json.WriteStartArray("functionResponses");
            foreach (var result in results)
            {
                _json.WriteStartObject();
                if (!string.IsNullOrEmpty(result.Id))
                {
                    _json.WriteString("id", result.Id);
                }

                _json.WriteString("name", result.Name);
                _json.WritePropertyName("response");
                if (result.Scheduling is { } scheduling && result.Response.ValueKind == JsonValueKind.Object)
                {
                    // Both places Google names: the typed FunctionResponse.scheduling, and inside the response
                    // as the Live API's tool-use guide shows it (reference §2d); the service reads one of them.
                    _json.WriteStartObject();
                    foreach (var property in result.Response.EnumerateObject())
                    {
                        property.WriteTo(_json);
                    }

                    _json.WriteString("scheduling", scheduling);
                    _json.WriteEndObject();
                    _json.WriteString("scheduling", scheduling);
                }
                else
                {
                    result.Response.WriteTo(_json);
                }

                _json.WriteEndObject();
            }

            _json.WriteEndArray();
            _json.WriteEndObject();
            await SendBufferedAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _sendLock.Release();
        }
    }

    public ValueTask<LiveEvent> ReceiveAsync(CancellationToken cancellationToken) => _events.ReadAsync(cancellationToken);

    public async ValueTask CloseAsync(CancellationToken cancellationToken)
    {
        _closeRequested = true;
        if (_socket.State is WebSocketState.Open or WebSocketState.CloseReceived)
        {
            try
            {
                using var timeout = new CancellationTokenSource(CloseTimeout, _time);
                using var linked = CancellationTokenSource.CreateLinkedTokenSource(timeout.Token, cancellationToken);
                await _sendLock.WaitAsync(linked.Token).ConfigureAwait(false);
                try
                {
                    await _socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, linked.Token).ConfigureAwait(false);
                }
                finally
                {
                    _sendLock.Release();
                }

                // The reader loop sees the service's answering close frame and ends.
                await _readerLoop.WaitAsync(linked.Token).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is OperationCanceledException or WebSocketException or IOException or ObjectDisposedException)
            {
                _socket.Abort();
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        _closeRequested = true;
        _socket.Abort();
        await _readerStop.CancelAsync().ConfigureAwait(false);
        try
        {
            await _readerLoop.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }

        _events.CompleteAndReturnPending();

        _socket.Dispose();
        _readerStop.Dispose();
        _sendLock.Dispose();
        await _json.DisposeAsync().ConfigureAwait(false);
        _sendBuffer.Dispose();
    }

    private ValueTask SendRealtimeSignalAsync(string signal, CancellationToken cancellationToken) => SendSignalCoreAsync(signal, cancellationToken);

    private async ValueTask SendSignalCoreAsync(string signal, CancellationToken cancellationToken)
    {
        await _sendLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            Begin();
            _json.WriteStartObject(Names.RealtimeInput);
            _json.WriteStartObject(signal);
            _json.WriteEndObject();
            _json.WriteEndObject();
            await SendBufferedAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _sendLock.Release();
        }
    }

    private void Begin()
    {
        _sendBuffer.Clear();
        _json.Reset(_sendBuffer);
        _json.WriteStartObject();
    }

    private async ValueTask SendBufferedAsync(CancellationToken cancellationToken)
    {
        try
        {
            _json.WriteEndObject();
            _json.Flush();
            if (_socket.State != WebSocketState.Open)
            {
                throw new LiveConnectionException(GeminiCloseClassifier.ConnectFailed with { Message = GeminiCloseClassifier.NotResumedMessage }, "the connection is closed");
            }

            await _socket.SendAsync(_sendBuffer.WrittenMemory, WebSocketMessageType.Text, endOfMessage: true, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is WebSocketException or IOException or ObjectDisposedException)
        {
            throw new LiveConnectionException(GeminiCloseClassifier.ConnectFailed with { Message = GeminiCloseClassifier.NotResumedMessage }, "send failed: " + ex.Message, ex);
        }
        finally
        {
            // The socket has copied (masked) the message: between messages the session holds no buffer.
            _sendBuffer.Release();
        }
    }

    private async Task ReadLoopAsync()
    {
        var token = _readerStop.Token;
        LiveError? failure = null;
        try
        {
            while (true)
            {
                // Wait for data without holding a buffer: idle connections keep nothing rented. Reads
                // take no token: disposing aborts the socket first, which ends them, and a token per
                // read would be registered and unregistered on every message.
                var peek = await _socket.ReceiveAsync(Memory<byte>.Empty, CancellationToken.None).ConfigureAwait(false);
                if (peek.MessageType == WebSocketMessageType.Close)
                {
                    failure = await OnCloseReceivedAsync().ConfigureAwait(false);
                    return;
                }

                if (peek.EndOfMessage)
                {
                    continue; // an empty message
                }

                var buffer = ArrayPool<byte>.Shared.Rent(InitialReceiveBytes);
                var length = 0;
                try
                {
                    ValueWebSocketReceiveResult result;
                    do
                    {
                        if (length == buffer.Length)
                        {
                            if (buffer.Length >= MaxMessageBytes)
                            {
                                // The framing refuses such a message first; this bounds the buffer over any other socket.
                                throw new InvalidDataException($"A message from the service exceeds {MaxMessageBytes} bytes.");
                            }

                            var larger = ArrayPool<byte>.Shared.Rent(buffer.Length * 2);
                            buffer.AsSpan(0, length).CopyTo(larger);
                            ArrayPool<byte>.Shared.Return(buffer);
                            buffer = larger;
                        }

                        result = await _socket.ReceiveAsync(buffer.AsMemory(length), CancellationToken.None).ConfigureAwait(false);
                        if (result.MessageType == WebSocketMessageType.Close)
                        {
                            failure = await OnCloseReceivedAsync().ConfigureAwait(false);
                            return;
                        }

                        length += result.Count;
                    }
                    while (!result.EndOfMessage);

                    await DispatchAsync(buffer.AsSpan(0, length), token).ConfigureAwait(false);
                }
                finally
                {
                    ArrayPool<byte>.Shared.Return(buffer);
                }
            }
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
            // Disposed.
        }
        catch (WebSocketException ex) when (ex.WebSocketErrorCode == WebSocketError.Faulted && !_closeRequested)
        {
            // The framing has failed the connection with the close code that says why (1002, 1007, 1009).
            CloseDetail = "protocol violation: " + ex.Message;
            Log.ProtocolViolation(_logger, _connectionId, ex.Message);
            failure = GeminiCloseClassifier.ProtocolViolation;
        }
        catch (Exception ex) when (ex is WebSocketException or IOException or ObjectDisposedException or InvalidDataException)
        {
            if (!_closeRequested)
            {
                CloseDetail = "connection lost: " + ex.Message;
                Log.ConnectionLost(_logger, _connectionId, ex.Message);
                failure = GeminiCloseClassifier.ForClose(null, null);
            }
        }
        finally
        {
            try
            {
                if (failure is not null)
                {
                    await _events.WriteAsync(LiveEvent.ForError(failure), token).ConfigureAwait(false);
                }

                await _events.WriteAsync(LiveEvent.ForClosed(failure), token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                // Disposed: nobody reads any more.
            }

            _events.Complete();
        }
    }

    private ValueTask DispatchAsync(ReadOnlySpan<byte> message, CancellationToken cancellationToken)
    {
        _parsed.Clear();
        bool read;
        bool setupComplete;
        try
        {
            read = _messages.Read(message, _parsed, out setupComplete);
        }
        catch
        {
            // Whatever went wrong, the audio read so far goes back to its pool.
            ReturnAudio(CollectionsMarshal.AsSpan(_parsed));
            _parsed.Clear();
            throw;
        }

        if (!read)
        {
            ReturnAudio(CollectionsMarshal.AsSpan(_parsed));
            _parsed.Clear();
            Log.InvalidMessage(_logger, _connectionId, message.Length);
            return ValueTask.CompletedTask;
        }

        if (setupComplete && _setupCompleted.TrySetResult())
        {
            Log.SetupCompleted(_logger, _connectionId);
        }

        if (_messages.UnexpectedSampleRate != 0 && !_warnedSampleRate)
        {
            _warnedSampleRate = true;
            Log.UnexpectedSampleRate(_logger, _connectionId, _messages.UnexpectedSampleRate);
        }

        return _parsed.Count == 0 ? ValueTask.CompletedTask : WriteParsedAsync(cancellationToken);
    }

    private async ValueTask WriteParsedAsync(CancellationToken cancellationToken)
    {
        for (var i = 0; i < _parsed.Count; i++)
        {
            bool written;
            try
            {
                written = await _events.WriteAsync(_parsed[i], cancellationToken).ConfigureAwait(false);
            }
            catch
            {
                ReturnAudio(CollectionsMarshal.AsSpan(_parsed)[i..]);
                throw;
            }

            if (!written)
            {
                // The queue was completed: nobody will read these.
                ReturnAudio(CollectionsMarshal.AsSpan(_parsed)[i..]);
                break;
            }
        }

        _parsed.Clear();
    }

    private static void ReturnAudio(ReadOnlySpan<LiveEvent> events)
    {
        foreach (var e in events)
        {
            e.ReturnAudio();
        }
    }

    private async ValueTask<LiveError?> OnCloseReceivedAsync()
    {
        var status = (int?)_socket.CloseStatus;
        var reason = _socket.CloseStatusDescription;
        CloseDetail = $"{status} {reason}";
        if (_socket.State == WebSocketState.CloseReceived)
        {
            try
            {
                using var timeout = new CancellationTokenSource(CloseTimeout, _time);
                await _sendLock.WaitAsync(timeout.Token).ConfigureAwait(false);
                try
                {
                    await _socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, timeout.Token).ConfigureAwait(false);
                }
                finally
                {
                    _sendLock.Release();
                }
            }
            catch (Exception ex) when (ex is OperationCanceledException or WebSocketException or IOException or ObjectDisposedException)
            {
                _socket.Abort();
            }
        }

        if (_closeRequested)
        {
            return null;
        }

        // The service's own words go to the logs only.
        Log.UpstreamClosed(_logger, _connectionId, status ?? 1005, reason ?? string.Empty);
        return GeminiCloseClassifier.ForClose(status, reason);
    }

    private static class Names
    {
        public static readonly JsonEncodedText RealtimeInput = JsonEncodedText.Encode("realtimeInput");
        public static readonly JsonEncodedText Audio = JsonEncodedText.Encode("audio");
        public static readonly JsonEncodedText Video = JsonEncodedText.Encode("video");
        public static readonly JsonEncodedText Jpeg = JsonEncodedText.Encode("image/jpeg");
        public static readonly JsonEncodedText Png = JsonEncodedText.Encode("image/png");
        public static readonly JsonEncodedText MimeType = JsonEncodedText.Encode("mimeType");
        public static readonly JsonEncodedText Data = JsonEncodedText.Encode("data");
        public static readonly JsonEncodedText Text = JsonEncodedText.Encode("text");
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 1101, Level = LogLevel.Debug, Message = "Gemini Live connection {ConnectionId}: setup complete.")]
        public static partial void SetupCompleted(ILogger logger, string connectionId);

        [LoggerMessage(EventId = 1102, Level = LogLevel.Information, Message = "Gemini Live connection {ConnectionId} closed by the service: {CloseStatus} {CloseReason}")]
        public static partial void UpstreamClosed(ILogger logger, string connectionId, int closeStatus, string closeReason);

        [LoggerMessage(EventId = 1103, Level = LogLevel.Information, Message = "Gemini Live connection {ConnectionId} lost: {Reason}")]
        public static partial void ConnectionLost(ILogger logger, string connectionId, string reason);

        [LoggerMessage(EventId = 1104, Level = LogLevel.Warning, Message = "Gemini Live connection {ConnectionId}: a message of {Length} bytes is not valid JSON and was dropped.")]
        public static partial void InvalidMessage(ILogger logger, string connectionId, int length);

        [LoggerMessage(EventId = 1105, Level = LogLevel.Warning, Message = "Gemini Live connection {ConnectionId}: the model sends audio at {SampleRate} Hz; clients expect 24000 Hz.")]
        public static partial void UnexpectedSampleRate(ILogger logger, string connectionId, int sampleRate);

        [LoggerMessage(EventId = 1106, Level = LogLevel.Warning, Message = "Gemini Live connection {ConnectionId} failed: {Reason}")]
        public static partial void ProtocolViolation(ILogger logger, string connectionId, string reason);
    }
}
