using System.Buffers;
using System.Buffers.Binary;
using System.Net.WebSockets;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Unicode;

namespace VoiceChat.Live.WebSockets;

/// <summary>
/// The client end of a WebSocket (RFC 6455) to the model service, over the upgraded HTTP/1.1
/// connection that <see cref="WebSocketUpgrade"/> opened. It does what the bridge needs and no more:
/// whole messages out (one write each: header, mask and payload in one buffer), messages in as text
/// or binary frames (fragmented or not), pings answered, pongs ignored, the close handshake, and a
/// keep-alive (<see cref="UpstreamWebSocketOptions"/>): a ping that must be answered in time, or a pong
/// when the connection has sent nothing for a while.
/// </summary>
/// <remarks>
/// <para>
/// Why not <see cref="ClientWebSocket"/>: it draws every frame's mask key from a fresh call to the
/// platform's cryptographic generator, and OpenSSL's generator checks for a fork on every call with a
/// <c>getpid</c> system call. On the audio path that is one system call more per frame; here the keys
/// come from a block of cryptographic random bytes drawn once per <see cref="WebSocketMask.KeysPerDraw"/>
/// frames (see <c>bench/README.md</c> for what that measured). One receive and one send may run at once.
/// </para>
/// <para>
/// What the service sends is held to the RFC: a frame that breaks it, a close code that is never sent
/// (7.4), text that is not UTF-8 (8.1, checked on text messages only) or a message over the size limit
/// fails the connection (7.1.7): a close frame with 1002, 1007 or 1009, then the connection is dropped
/// and the receive throws a <see cref="WebSocketException"/> with <see cref="WebSocketError.Faulted"/>.
/// Every frame goes out under the send lock after a check of the state, and the close frame marks the
/// state before it is written, so nothing ever follows it; the state changes by compare-exchange only.
/// </para>
/// </remarks>
internal sealed class UpstreamWebSocket : WebSocket
{
    private const int MaxControlPayload = 125;

    // How long failing the connection waits to send its close frame behind a send under way.
    private static readonly TimeSpan FailCloseTimeout = TimeSpan.FromSeconds(2);

    private readonly Stream _stream;
    private readonly TimeProvider _time;
    private readonly SemaphoreSlim _sendLock = new(1, 1);
    private readonly ITimer? _keepAlive;
    private readonly ITimer? _pingDeadline;
    private readonly TimeSpan _keepAliveTimeout;
    private readonly long _maxMessageBytes;
    private readonly byte[] _header = new byte[WebSocketMask.MaxHeaderLength];
    private readonly byte[] _control = new byte[MaxControlPayload];

    // Set by every frame sent, cleared by each keep-alive tick; set by every read, cleared by each
    // ping: flags, not a clock read per frame.
    private volatile bool _sentSinceTick;
    private volatile bool _receivedSincePing;
    private int _awaitingPong;

    // Receive state: the frame being read and the message it belongs to.
    private long _frameRemaining;
    private bool _frameFinal = true;
    private bool _inMessage;
    private long _messageLength;
    private WebSocketMessageType _messageType;
    private Utf8StreamValidator _utf8;

    // Send state: an unfinished message continues with continuation frames.
    private bool _sendingFragmented;

    // A WebSocketState, changed only by compare-exchange (TryCloseHalf, End).
    private int _state = (int)WebSocketState.Open;
    private WebSocketCloseStatus? _closeStatus;
    private string? _closeStatusDescription;
    // Why this end failed the connection, once it did: every later receive throws it.
    private volatile WebSocketException? _failure;
    private int _disposed;

    /// <param name="stream">The upgraded connection, read and written as a plain byte stream.</param>
    /// <param name="options">The keep-alive and the message size limit.</param>
    /// <param name="time">The clock of the keep-alive.</param>
    public UpstreamWebSocket(Stream stream, UpstreamWebSocketOptions options, TimeProvider time)
    {
        _stream = stream;
        _time = time;
        _maxMessageBytes = options.MaxMessageBytes;
        _keepAliveTimeout = options.KeepAliveTimeout;
        if (IsPeriod(options.KeepAliveInterval))
        {
            if (IsPeriod(_keepAliveTimeout))
            {
                _pingDeadline = time.CreateTimer(static state => ((UpstreamWebSocket)state!).OnPingDeadline(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
            }

            _keepAlive = time.CreateTimer(static state => ((UpstreamWebSocket)state!).OnKeepAlive(), this, options.KeepAliveInterval, options.KeepAliveInterval);
        }
    }

    public override WebSocketCloseStatus? CloseStatus => _closeStatus;

    public override string? CloseStatusDescription => _closeStatusDescription;

    public override WebSocketState State => (WebSocketState)Volatile.Read(ref _state);

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
            throw _failure ?? new WebSocketException(WebSocketError.InvalidState, $"The WebSocket is {State}: nothing more can be received.");
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
                            return EndOfMessage(0);
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

                _receivedSincePing = true;
                _frameRemaining -= read;
                if (_messageType == WebSocketMessageType.Text && !_utf8.Append(buffer.Span[..read]))
                {
                    throw new WebSocketProtocolViolation(WebSocketCloseStatus.InvalidPayloadData, "a text message is not UTF-8");
                }

                return _frameRemaining == 0 && _frameFinal
                    ? EndOfMessage(read)
                    : new ValueWebSocketReceiveResult(read, _messageType, false);
            }
        }
        catch (WebSocketProtocolViolation ex)
        {
            var failure = new WebSocketException(WebSocketError.Faulted, "The service broke the WebSocket protocol: " + ex.Message, ex);
            _failure = failure;
            await FailAsync(ex.CloseStatus).ConfigureAwait(false);
            throw failure;
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
        var payload = ClosePayload(closeStatus, statusDescription);
        await _sendLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            // Marked before it is written: no frame, not even a pong waiting for this lock, follows it.
            if (TryCloseHalf(WebSocketState.CloseSent, WebSocketState.CloseReceived))
            {
                await WriteFrameLockedAsync(WebSocketOpcode.Close, final: true, payload, cancellationToken).ConfigureAwait(false);
            }
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

    /// <summary>
    /// Whether a close frame may carry <paramref name="code"/> (RFC 6455, 7.4): 1000–1003, 1007–1014
    /// (1012–1014 registered after the RFC) and 3000–4999. Never: below 1000, 1004 (reserved), 1005,
    /// 1006 and 1015 (they stand for a close without a code, without a frame, a failed TLS handshake),
    /// 1016–2999 (unassigned) or 5000 and above.
    /// </summary>
    internal static bool IsValidCloseCode(int code) => code is (>= 1000 and <= 1003) or (>= 1007 and <= 1014) or (>= 3000 and <= 4999);

    // The payload of a close frame: the code and reason, or nothing for WebSocketCloseStatus.Empty.
    private static byte[] ClosePayload(WebSocketCloseStatus closeStatus, string? statusDescription)
    {
        if (closeStatus == WebSocketCloseStatus.Empty)
        {
            return string.IsNullOrEmpty(statusDescription)
                ? []
                : throw new ArgumentException("A close without a status code carries no reason.", nameof(statusDescription));
        }

        if (!IsValidCloseCode((int)closeStatus))
        {
            throw new ArgumentOutOfRangeException(nameof(closeStatus), (int)closeStatus, "This close code is never sent (RFC 6455, 7.4).");
        }

        var reason = statusDescription is null ? 0 : Encoding.UTF8.GetByteCount(statusDescription);
        if (reason > MaxControlPayload - 2)
        {
            throw new ArgumentException($"A close reason is at most {MaxControlPayload - 2} bytes of UTF-8.", nameof(statusDescription));
        }

        var payload = new byte[2 + reason];
        BinaryPrimitives.WriteUInt16BigEndian(payload, (ushort)closeStatus);
        if (statusDescription is not null)
        {
            Encoding.UTF8.GetBytes(statusDescription, payload.AsSpan(2));
        }

        return payload;
    }

    private static bool IsPeriod(TimeSpan time) => time > TimeSpan.Zero && time != Timeout.InfiniteTimeSpan;

    private bool CanSend => State is WebSocketState.Open or WebSocketState.CloseReceived;

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask SendDataAsync(ReadOnlyMemory<byte> payload, WebSocketMessageType messageType, bool endOfMessage, CancellationToken cancellationToken)
    {
        await _sendLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (!CanSend)
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
            throw ProtocolError("a frame has reserved bits set (no extension was agreed)");
        }

        if ((second & 0x80) != 0)
        {
            throw ProtocolError("a frame from the server is masked");
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
                throw ProtocolError("a frame length has its top bit set");
            }

            length = (long)wide;
        }

        switch (opcode)
        {
            case WebSocketOpcode.Close or WebSocketOpcode.Ping or WebSocketOpcode.Pong:
                if (!final || length > MaxControlPayload)
                {
                    throw ProtocolError("a control frame is fragmented or longer than 125 bytes");
                }

                _frameRemaining = length;
                return opcode;
            case WebSocketOpcode.Text or WebSocketOpcode.Binary:
                if (_inMessage)
                {
                    throw ProtocolError("a new message started before the previous one ended");
                }

                _inMessage = true;
                _messageLength = 0;
                _messageType = opcode == WebSocketOpcode.Text ? WebSocketMessageType.Text : WebSocketMessageType.Binary;
                _utf8 = default;
                break;
            case WebSocketOpcode.Continuation:
                if (!_inMessage)
                {
                    throw ProtocolError("a continuation frame arrived outside a message");
                }

                break;
            default:
                throw ProtocolError($"unknown opcode {(int)opcode}");
        }

        // Checked at the header, before any of it is read: the size of the message, all its fragments.
        if (length > _maxMessageBytes - _messageLength)
        {
            throw new WebSocketProtocolViolation(WebSocketCloseStatus.MessageTooBig, $"a message exceeds {_maxMessageBytes} bytes");
        }

        _messageLength += length;
        _frameRemaining = length;
        _frameFinal = final;
        return null;
    }

    private ValueWebSocketReceiveResult EndOfMessage(int count)
    {
        _inMessage = false;
        if (_messageType == WebSocketMessageType.Text && !_utf8.IsComplete)
        {
            throw new WebSocketProtocolViolation(WebSocketCloseStatus.InvalidPayloadData, "a text message ends inside a UTF-8 character");
        }

        return new ValueWebSocketReceiveResult(count, _messageType, true);
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
                    throw ProtocolError("a close frame carries one byte");
                }

                var status = length == 0 ? WebSocketCloseStatus.Empty : (WebSocketCloseStatus)BinaryPrimitives.ReadUInt16BigEndian(_control);
                if (length > 0 && !IsValidCloseCode((int)status))
                {
                    throw ProtocolError($"a close frame carries the code {(int)status}, which is never sent");
                }

                if (!Utf8.IsValid(_control.AsSpan(0, length)[Math.Min(length, 2)..]))
                {
                    throw new WebSocketProtocolViolation(WebSocketCloseStatus.InvalidPayloadData, "a close reason is not UTF-8");
                }

                _closeStatus = status;
                _closeStatusDescription = length > 2 ? Encoding.UTF8.GetString(_control, 2, length - 2) : string.Empty;
                TryCloseHalf(WebSocketState.CloseReceived, WebSocketState.CloseSent);
                return true;
        }
    }

    private async ValueTask SendControlAsync(WebSocketOpcode opcode, ReadOnlyMemory<byte> payload, CancellationToken cancellationToken)
    {
        await _sendLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (CanSend)
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

            _receivedSincePing = true;
            buffer = buffer[read..];
        }
    }

    // Fails the connection (RFC 6455, 7.1.7): a close frame with the status, unless one was sent
    // already, then the connection is dropped without waiting for the service's answer.
    private async ValueTask FailAsync(WebSocketCloseStatus status)
    {
        try
        {
            using var timeout = new CancellationTokenSource(FailCloseTimeout, _time);
            await _sendLock.WaitAsync(timeout.Token).ConfigureAwait(false);
            try
            {
                if (TryCloseHalf(WebSocketState.CloseSent, WebSocketState.CloseReceived))
                {
                    await WriteFrameLockedAsync(WebSocketOpcode.Close, final: true, ClosePayload(status, null), timeout.Token).ConfigureAwait(false);
                }
            }
            finally
            {
                _sendLock.Release();
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or WebSocketException)
        {
            // The close frame could not go out; dropping the connection is what remains.
        }

        Abort();
    }

    // Every keep-alive tick: a ping (when the timeout is on and no ping waits for its answer), else an
    // unsolicited pong (RFC 6455 5.5.3) when nothing was sent since the last tick, which keeps idle
    // connections open through proxies. Skipped while a send is under way: that send is traffic.
    private void OnKeepAlive()
    {
        WebSocketOpcode opcode;
        if (_pingDeadline is not null)
        {
            if (Volatile.Read(ref _awaitingPong) != 0)
            {
                return;
            }

            opcode = WebSocketOpcode.Ping;
        }
        else if (_sentSinceTick)
        {
            _sentSinceTick = false;
            return;
        }
        else
        {
            opcode = WebSocketOpcode.Pong;
        }

        if (_sendLock.Wait(0))
        {
            _ = SendKeepAliveLockedAsync(opcode);
        }
    }

    private async Task SendKeepAliveLockedAsync(WebSocketOpcode opcode)
    {
        try
        {
            if (!CanSend)
            {
                return;
            }

            if (opcode == WebSocketOpcode.Ping)
            {
                // The deadline runs from the ping; any frame that arrives after it proves the connection alive.
                _receivedSincePing = false;
                Volatile.Write(ref _awaitingPong, 1);
                _pingDeadline!.Change(_keepAliveTimeout, Timeout.InfiniteTimeSpan);
            }

            await WriteFrameLockedAsync(opcode, final: true, ReadOnlyMemory<byte>.Empty, CancellationToken.None).ConfigureAwait(false);
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

    // Nothing arrived within the timeout of a ping: the connection is dead, though no error said so.
    // Dropping it ends the pending receive, which reports it as lost.
    private void OnPingDeadline()
    {
        Volatile.Write(ref _awaitingPong, 0);
        if (_receivedSincePing || State is WebSocketState.Closed or WebSocketState.Aborted)
        {
            return;
        }

        _failure = new WebSocketException(
            WebSocketError.ConnectionClosedPrematurely,
            $"The connection to the service was lost: nothing arrived within {_keepAliveTimeout} of a ping.");
        Abort();
    }

    // One half of the close handshake: Open becomes `half`, and `otherHalf` becomes Closed. False
    // when this half was done already or the socket ended.
    private bool TryCloseHalf(WebSocketState half, WebSocketState otherHalf)
    {
        var state = Volatile.Read(ref _state);
        while (true)
        {
            WebSocketState next;
            if (state == (int)WebSocketState.Open)
            {
                next = half;
            }
            else if (state == (int)otherHalf)
            {
                next = WebSocketState.Closed;
            }
            else
            {
                return false;
            }

            var seen = Interlocked.CompareExchange(ref _state, (int)next, state);
            if (seen == state)
            {
                return true;
            }

            state = seen;
        }
    }

    // Ends the connection; a socket already closed or aborted keeps that state.
    private void End(WebSocketState state)
    {
        var current = Volatile.Read(ref _state);
        while (current is not ((int)WebSocketState.Closed or (int)WebSocketState.Aborted))
        {
            var seen = Interlocked.CompareExchange(ref _state, (int)state, current);
            if (seen == current)
            {
                break;
            }

            current = seen;
        }

        _keepAlive?.Dispose();
        _pingDeadline?.Dispose();
        _stream.Dispose();
    }

    private WebSocketException AbortAsLost(Exception ex)
    {
        Abort();
        return _failure ?? new WebSocketException(WebSocketError.ConnectionClosedPrematurely, "The connection to the service was lost: " + ex.Message, ex);
    }

    private static WebSocketProtocolViolation ProtocolError(string message) => new(WebSocketCloseStatus.ProtocolError, message);

    private static IOException ConnectionEnded() => new("the service closed the connection without a close frame");
}

/// <summary>What the service sent breaks RFC 6455; <see cref="CloseStatus"/> is the close code that says so.</summary>
internal sealed class WebSocketProtocolViolation(WebSocketCloseStatus closeStatus, string message) : Exception(message)
{
    public WebSocketCloseStatus CloseStatus { get; } = closeStatus;
}
