using System.Buffers;
using System.Buffers.Binary;
using System.Net.WebSockets;
using System.Runtime.CompilerServices;
using System.Text;

namespace VoiceChat.Live.WebSockets;

/// <summary>
/// The client end of a WebSocket (RFC 6455) to the model service, over the upgraded HTTP/1.1
/// connection that <see cref="WebSocketUpgrade"/> opened. It does what the bridge needs and no more:
/// whole messages out (one write each: header, mask and payload in one buffer), messages in as text
/// or binary frames (fragmented or not), pings answered, pongs ignored, the close handshake, a
/// keep-alive pong when the connection has sent nothing for a while.
/// </summary>
/// <remarks>
/// Why not <see cref="ClientWebSocket"/>: it draws every frame's mask key from a fresh call to the
/// platform's cryptographic generator, and OpenSSL's generator checks for a fork on every call with a
/// <c>getpid</c> system call. On the audio path that is one system call more per frame; here the keys
/// come from a block of cryptographic random bytes drawn once per <see cref="WebSocketMask.KeysPerDraw"/>
/// frames (see <c>bench/README.md</c> for what that measured). One receive and one send may run at once.
/// </remarks>
internal sealed class UpstreamWebSocket : WebSocket
{
    private const int MaxControlPayload = 125;

    private readonly Stream _stream;
    private readonly SemaphoreSlim _sendLock = new(1, 1);
    private readonly ITimer? _keepAlive;
    private readonly byte[] _header = new byte[WebSocketMask.MaxHeaderLength];
    private readonly byte[] _control = new byte[MaxControlPayload];
    // Set by every frame sent, cleared by each keep-alive tick: a flag, not a clock read per frame.
    private volatile bool _sentSinceTick;

    // Receive state: the frame being read and the message it belongs to.
    private long _frameRemaining;
    private bool _frameFinal = true;
    private bool _inMessage;
    private WebSocketMessageType _messageType;

    // Send state: an unfinished message continues with continuation frames.
    private bool _sendingFragmented;

    private volatile int _state = (int)WebSocketState.Open;
    private WebSocketCloseStatus? _closeStatus;
    private string? _closeStatusDescription;
    private int _disposed;

    /// <param name="stream">The upgraded connection, read and written as a plain byte stream.</param>
    /// <param name="keepAliveInterval">How often the connection checks that it sent something, and sends an unsolicited pong if it did not; <see cref="Timeout.InfiniteTimeSpan"/> for never.</param>
    /// <param name="time">The clock of the keep-alive timer.</param>
    public UpstreamWebSocket(Stream stream, TimeSpan keepAliveInterval, TimeProvider time)
    {
        _stream = stream;
        if (keepAliveInterval > TimeSpan.Zero && keepAliveInterval != Timeout.InfiniteTimeSpan)
        {
            _keepAlive = time.CreateTimer(static state => ((UpstreamWebSocket)state!).OnKeepAlive(), this, keepAliveInterval, keepAliveInterval);
        }
    }

    public override WebSocketCloseStatus? CloseStatus => _closeStatus;

    public override string? CloseStatusDescription => _closeStatusDescription;

    public override WebSocketState State => (WebSocketState)_state;

    public override string? SubProtocol => null;

    public override Task SendAsync(ArraySegment<byte> buffer, WebSocketMessageType messageType, bool endOfMessage, CancellationToken cancellationToken) =>
        SendAsync(buffer.AsMemory(), messageType, endOfMessage, cancellationToken).AsTask();

    public override ValueTask SendAsync(ReadOnlyMemory<byte> buffer, WebSocketMessageType messageType, bool endOfMessage, CancellationToken cancellationToken)
    {
        if (messageType is not (WebSocketMessageType.Text or WebSocketMessageType.Binary))
        {
            throw new ArgumentException("Only text and binary messages are sent; close with CloseOutputAsync.", nameof(messageType));
        }

        return SendDataAsync(buffer, messageType, endOfMessage, cancellationToken);
    }

    public override async Task<WebSocketReceiveResult> ReceiveAsync(ArraySegment<byte> buffer, CancellationToken cancellationToken)
    {
        var result = await ReceiveAsync(buffer.AsMemory(), cancellationToken).ConfigureAwait(false);
        return result.MessageType == WebSocketMessageType.Close
            ? new WebSocketReceiveResult(0, WebSocketMessageType.Close, true, _closeStatus, _closeStatusDescription)
            : new WebSocketReceiveResult(result.Count, result.MessageType, result.EndOfMessage);
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public override async ValueTask<ValueWebSocketReceiveResult> ReceiveAsync(Memory<byte> buffer, CancellationToken cancellationToken)
    {
        if (State is not (WebSocketState.Open or WebSocketState.CloseSent))
        {
            throw new WebSocketException(WebSocketError.InvalidState, $"The WebSocket is {State}: nothing more can be received.");
        }

        try
        {
            while (true)
            {
                if (_frameRemaining == 0)
                {
                    if (!_inMessage && buffer.Length == 0)
                    {
                        // Wait for the next message without holding a buffer for it.
                        await _stream.ReadAsync(Memory<byte>.Empty, cancellationToken).ConfigureAwait(false);
                    }

                    var control = await ReadFrameHeaderAsync(cancellationToken).ConfigureAwait(false);
                    if (control is { } opcode)
                    {
                        if (await HandleControlFrameAsync(opcode, cancellationToken).ConfigureAwait(false))
                        {
                            return new ValueWebSocketReceiveResult(0, WebSocketMessageType.Close, true);
                        }

                        continue;
                    }

                    if (_frameRemaining == 0)
                    {
                        if (_frameFinal)
                        {
                            _inMessage = false;
                            return new ValueWebSocketReceiveResult(0, _messageType, true);
                        }

                        continue; // an empty fragment: the message goes on in the next frame
                    }
                }

                if (buffer.Length == 0)
                {
                    return new ValueWebSocketReceiveResult(0, _messageType, false);
                }

                var wanted = (int)Math.Min(buffer.Length, _frameRemaining);
                var read = await _stream.ReadAsync(buffer[..wanted], cancellationToken).ConfigureAwait(false);
                if (read == 0)
                {
                    throw ConnectionEnded();
                }

                _frameRemaining -= read;
                var end = _frameRemaining == 0 && _frameFinal;
                if (end)
                {
                    _inMessage = false;
                }

                return new ValueWebSocketReceiveResult(read, _messageType, end);
            }
        }
        catch (InvalidDataException ex)
        {
            Abort();
            throw new WebSocketException(WebSocketError.Faulted, "The service broke the WebSocket protocol: " + ex.Message, ex);
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException)
        {
            throw AbortAsLost(ex);
        }
        catch (OperationCanceledException)
        {
            Abort();
            throw;
        }
    }

    public override async Task CloseOutputAsync(WebSocketCloseStatus closeStatus, string? statusDescription, CancellationToken cancellationToken)
    {
        var reason = statusDescription is null ? 0 : Encoding.UTF8.GetByteCount(statusDescription);
        if (reason > MaxControlPayload - 2)
        {
            throw new ArgumentException($"A close reason is at most {MaxControlPayload - 2} bytes of UTF-8.", nameof(statusDescription));
        }

        await _sendLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (State is not (WebSocketState.Open or WebSocketState.CloseReceived))
            {
                return;
            }

            var payload = new byte[2 + reason];
            BinaryPrimitives.WriteUInt16BigEndian(payload, (ushort)closeStatus);
            if (statusDescription is not null)
            {
                Encoding.UTF8.GetBytes(statusDescription, payload.AsSpan(2));
            }

            await WriteFrameLockedAsync(WebSocketOpcode.Close, final: true, payload, cancellationToken).ConfigureAwait(false);
            _state = State == WebSocketState.CloseReceived ? (int)WebSocketState.Closed : (int)WebSocketState.CloseSent;
        }
        finally
        {
            _sendLock.Release();
        }
    }

    public override async Task CloseAsync(WebSocketCloseStatus closeStatus, string? statusDescription, CancellationToken cancellationToken)
    {
        await CloseOutputAsync(closeStatus, statusDescription, cancellationToken).ConfigureAwait(false);
        var drain = new byte[1024];
        while (State == WebSocketState.CloseSent)
        {
            await ReceiveAsync(drain.AsMemory(), cancellationToken).ConfigureAwait(false);
        }
    }

    public override void Abort() => End(WebSocketState.Aborted);

    public override void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            End(WebSocketState.Closed);
        }
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask SendDataAsync(ReadOnlyMemory<byte> payload, WebSocketMessageType messageType, bool endOfMessage, CancellationToken cancellationToken)
    {
        await _sendLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (State is not (WebSocketState.Open or WebSocketState.CloseReceived))
            {
                throw new WebSocketException(WebSocketError.InvalidState, $"The WebSocket is {State}: nothing more can be sent.");
            }

            var opcode = _sendingFragmented ? WebSocketOpcode.Continuation
                : messageType == WebSocketMessageType.Text ? WebSocketOpcode.Text : WebSocketOpcode.Binary;
            await WriteFrameLockedAsync(opcode, endOfMessage, payload, cancellationToken).ConfigureAwait(false);
            _sendingFragmented = !endOfMessage;
        }
        finally
        {
            _sendLock.Release();
        }
    }

    // The caller holds the send lock. A write that fails or is cancelled halfway leaves the stream
    // in the middle of a frame, so it aborts the connection.
    private async ValueTask WriteFrameLockedAsync(WebSocketOpcode opcode, bool final, ReadOnlyMemory<byte> payload, CancellationToken cancellationToken)
    {
        var frame = ArrayPool<byte>.Shared.Rent(WebSocketMask.MaxHeaderLength + payload.Length);
        try
        {
            var length = WebSocketMask.WriteMaskedFrame(frame, opcode, final, payload.Span);
            await _stream.WriteAsync(frame.AsMemory(0, length), cancellationToken).ConfigureAwait(false);
            _sentSinceTick = true;
        }
        catch (OperationCanceledException)
        {
            Abort();
            throw;
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException)
        {
            throw AbortAsLost(ex);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(frame);
        }
    }

    /// <summary>Reads one frame header; returns the opcode of a control frame, or null for a data frame (whose state it sets).</summary>
    private async ValueTask<WebSocketOpcode?> ReadFrameHeaderAsync(CancellationToken cancellationToken)
    {
        await ReadExactlyAsync(_header.AsMemory(0, 2), cancellationToken).ConfigureAwait(false);
        var first = _header[0];
        var second = _header[1];
        var final = (first & 0x80) != 0;
        var opcode = (WebSocketOpcode)(first & 0x0F);
        if ((first & 0x70) != 0)
        {
            throw new InvalidDataException("a frame has reserved bits set (no extension was agreed)");
        }

        if ((second & 0x80) != 0)
        {
            throw new InvalidDataException("a frame from the server is masked");
        }

        long length = second & 0x7F;
        if (length == 126)
        {
            await ReadExactlyAsync(_header.AsMemory(2, 2), cancellationToken).ConfigureAwait(false);
            length = BinaryPrimitives.ReadUInt16BigEndian(_header.AsSpan(2, 2));
        }
        else if (length == 127)
        {
            await ReadExactlyAsync(_header.AsMemory(2, 8), cancellationToken).ConfigureAwait(false);
            var wide = BinaryPrimitives.ReadUInt64BigEndian(_header.AsSpan(2, 8));
            if (wide > long.MaxValue)
            {
                throw new InvalidDataException("a frame length has its top bit set");
            }

            length = (long)wide;
        }

        switch (opcode)
        {
            case WebSocketOpcode.Close or WebSocketOpcode.Ping or WebSocketOpcode.Pong:
                if (!final || length > MaxControlPayload)
                {
                    throw new InvalidDataException("a control frame is fragmented or longer than 125 bytes");
                }

                _frameRemaining = length;
                return opcode;
            case WebSocketOpcode.Text or WebSocketOpcode.Binary:
                if (_inMessage)
                {
                    throw new InvalidDataException("a new message started before the previous one ended");
                }

                _inMessage = true;
                _messageType = opcode == WebSocketOpcode.Text ? WebSocketMessageType.Text : WebSocketMessageType.Binary;
                break;
            case WebSocketOpcode.Continuation:
                if (!_inMessage)
                {
                    throw new InvalidDataException("a continuation frame arrived outside a message");
                }

                break;
            default:
                throw new InvalidDataException($"unknown opcode {(int)opcode}");
        }

        _frameRemaining = length;
        _frameFinal = final;
        return null;
    }

    /// <summary>Reads a control frame's payload and acts on it; true when it was the service's close.</summary>
    private async ValueTask<bool> HandleControlFrameAsync(WebSocketOpcode opcode, CancellationToken cancellationToken)
    {
        var length = (int)_frameRemaining;
        await ReadExactlyAsync(_control.AsMemory(0, length), cancellationToken).ConfigureAwait(false);
        _frameRemaining = 0;
        switch (opcode)
        {
            case WebSocketOpcode.Ping:
                await SendControlAsync(WebSocketOpcode.Pong, _control.AsMemory(0, length), cancellationToken).ConfigureAwait(false);
                return false;
            case WebSocketOpcode.Pong:
                return false;
            default:
                if (length == 1)
                {
                    throw new InvalidDataException("a close frame carries one byte");
                }

                _closeStatus = length == 0 ? WebSocketCloseStatus.Empty : (WebSocketCloseStatus)BinaryPrimitives.ReadUInt16BigEndian(_control);
                _closeStatusDescription = length > 2 ? Encoding.UTF8.GetString(_control, 2, length - 2) : string.Empty;
                _state = State == WebSocketState.CloseSent ? (int)WebSocketState.Closed : (int)WebSocketState.CloseReceived;
                return true;
        }
    }

    private async ValueTask SendControlAsync(WebSocketOpcode opcode, ReadOnlyMemory<byte> payload, CancellationToken cancellationToken)
    {
        await _sendLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (State is WebSocketState.Open or WebSocketState.CloseReceived)
            {
                await WriteFrameLockedAsync(opcode, final: true, payload, cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            _sendLock.Release();
        }
    }

    private async ValueTask ReadExactlyAsync(Memory<byte> buffer, CancellationToken cancellationToken)
    {
        while (buffer.Length > 0)
        {
            var read = await _stream.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
            if (read == 0)
            {
                throw ConnectionEnded();
            }

            buffer = buffer[read..];
        }
    }

    // An unsolicited pong (RFC 6455 5.5.3) when nothing was sent since the last tick: keeps idle
    // connections open through proxies. Skipped while a send is under way: that send is traffic.
    private void OnKeepAlive()
    {
        if (_sentSinceTick)
        {
            _sentSinceTick = false;
            return;
        }

        if (State != WebSocketState.Open || !_sendLock.Wait(0))
        {
            return;
        }

        _ = SendKeepAliveLockedAsync();
    }

    private async Task SendKeepAliveLockedAsync()
    {
        try
        {
            await WriteFrameLockedAsync(WebSocketOpcode.Pong, final: true, ReadOnlyMemory<byte>.Empty, CancellationToken.None).ConfigureAwait(false);
        }
        catch (WebSocketException)
        {
            // The connection is gone; the reader reports it.
        }
        finally
        {
            _sendLock.Release();
        }
    }

    // Ends the connection; a socket already closed or aborted keeps that state.
    private void End(WebSocketState state)
    {
        if (State is not (WebSocketState.Closed or WebSocketState.Aborted))
        {
            _state = (int)state;
        }

        _keepAlive?.Dispose();
        _stream.Dispose();
    }

    private WebSocketException AbortAsLost(Exception ex)
    {
        Abort();
        return new WebSocketException(WebSocketError.ConnectionClosedPrematurely, "The connection to the service was lost: " + ex.Message, ex);
    }

    private static IOException ConnectionEnded() => new("the service closed the connection without a close frame");
}
