using System.Buffers.Text;
using System.Net.WebSockets;
using System.Text.Json;

namespace VoiceChat.Testing.Wire;

/// <summary>
/// The one writer of a connection's socket: every server message is composed into one pooled buffer
/// and sent under a lock, because <see cref="WebSocket.SendAsync(ReadOnlyMemory{byte}, WebSocketMessageType, bool, CancellationToken)"/>
/// must never run twice at once. A send that takes longer than the send timeout aborts the socket
/// (a client that stops reading cannot hold the emulator's memory).
/// </summary>
internal sealed class ServerMessageSender : IDisposable
{
    private static readonly TimeSpan SendTimeout = TimeSpan.FromSeconds(10);
    private static ReadOnlySpan<byte> AudioPrefix => "{\"serverContent\":{\"modelTurn\":{\"parts\":[{\"inlineData\":{\"mimeType\":\"audio/pcm;rate=24000\",\"data\":\""u8;
    private static ReadOnlySpan<byte> AudioSuffix => "\"}}]}}}"u8;

    private readonly WebSocket _socket;
    private readonly SemaphoreSlim _lock = new(1, 1);
    private readonly PooledBufferWriter _buffer = new();
    private readonly Utf8JsonWriter _json;
    private readonly CancellationTokenSource _timeout;
    private bool _closed;

    public ServerMessageSender(WebSocket socket, bool textFrames, CancellationToken connectionToken)
    {
        _socket = socket;
        MessageType = textFrames ? WebSocketMessageType.Text : WebSocketMessageType.Binary;
        _json = new Utf8JsonWriter(_buffer, new JsonWriterOptions { SkipValidation = false });
        _timeout = CancellationTokenSource.CreateLinkedTokenSource(connectionToken);
    }

    public WebSocketMessageType MessageType { get; }

    /// <summary>Composes a JSON message with <paramref name="write"/> and sends it. False when the socket is closed or broken.</summary>
    public async ValueTask<bool> SendJsonAsync<TState>(TState state, Action<Utf8JsonWriter, TState> write)
    {
        if (!await EnterAsync().ConfigureAwait(false))
        {
            return false;
        }

        try
        {
            _buffer.Clear();
            _json.Reset(_buffer);
            write(_json, state);
            _json.Flush();
            return await SendLockedAsync().ConfigureAwait(false);
        }
        finally
        {
            _lock.Release();
        }
    }

    /// <summary>Sends one model audio message whose data is already base64 (the echo path: no decode, no re-encode).</summary>
    public async ValueTask<bool> SendAudioBase64Async(ReadOnlyMemory<byte> base64)
    {
        if (!await EnterAsync().ConfigureAwait(false))
        {
            return false;
        }

        try
        {
            _buffer.Clear();
            _buffer.Write(AudioPrefix);
            _buffer.Write(base64.Span);
            _buffer.Write(AudioSuffix);
            return await SendLockedAsync().ConfigureAwait(false);
        }
        finally
        {
            _lock.Release();
        }
    }

    /// <summary>Sends one model audio message with PCM bytes, base64-encoded into the pooled buffer.</summary>
    public async ValueTask<bool> SendAudioAsync(ReadOnlyMemory<byte> pcm)
    {
        if (!await EnterAsync().ConfigureAwait(false))
        {
            return false;
        }

        try
        {
            _buffer.Clear();
            _buffer.Write(AudioPrefix);
            var span = _buffer.GetSpan(Base64.GetMaxEncodedToUtf8Length(pcm.Length));
            Base64.EncodeToUtf8(pcm.Span, span, out _, out var written);
            _buffer.Advance(written);
            _buffer.Write(AudioSuffix);
            return await SendLockedAsync().ConfigureAwait(false);
        }
        finally
        {
            _lock.Release();
        }
    }

    /// <summary>Sends the close frame (once). False when the socket could not send it.</summary>
    public async ValueTask<bool> CloseAsync(WebSocketCloseStatus status, string reason)
    {
        if (!await EnterAsync().ConfigureAwait(false))
        {
            return false;
        }

        try
        {
            _closed = true;
            if (_socket.State is not (WebSocketState.Open or WebSocketState.CloseReceived))
            {
                return false;
            }

            _timeout.CancelAfter(SendTimeout);
            await _socket.CloseOutputAsync(status, reason, _timeout.Token).ConfigureAwait(false);
            _timeout.TryReset();
            return true;
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or ObjectDisposedException or IOException)
        {
            return false;
        }
        finally
        {
            _lock.Release();
        }
    }

    public void Dispose()
    {
        _json.Dispose();
        _buffer.Dispose();
        _timeout.Dispose();
    }

    private async ValueTask<bool> EnterAsync()
    {
        try
        {
            await _lock.WaitAsync(_timeout.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException)
        {
            return false;
        }

        if (_closed)
        {
            _lock.Release();
            return false;
        }

        return true;
    }

    private async ValueTask<bool> SendLockedAsync()
    {
        if (_socket.State is not (WebSocketState.Open or WebSocketState.CloseReceived))
        {
            return false;
        }

        try
        {
            _timeout.CancelAfter(SendTimeout);
            await _socket.SendAsync(_buffer.WrittenMemory, MessageType, endOfMessage: true, _timeout.Token).ConfigureAwait(false);
            _timeout.TryReset();
            return true;
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or ObjectDisposedException or IOException)
        {
            return false;
        }
    }
}
