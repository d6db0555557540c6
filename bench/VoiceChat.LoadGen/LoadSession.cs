using System.Buffers;
using System.Diagnostics;
using System.Net.WebSockets;

namespace VoiceChat.LoadGen;

/// <summary>Where a session is in its life.</summary>
internal enum SessionState
{
    Pending,
    Connecting,
    Streaming,
    Failed,
    Dropped,
    Ending,
    Ended,
}

/// <summary>
/// One generated voice session: connect, handshake, stream stamped microphone frames in real time,
/// read everything the server sends, end. Subclasses speak a protocol. Streaming allocates nothing
/// per frame: the frame and receive buffers are made once per session, and the microphone is played
/// by the run's <see cref="FramePacer"/>.
/// </summary>
internal abstract class LoadSession : IDisposable
{
    private readonly TaskCompletionSource _started = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _microphoneStopped = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly ClientWebSocket _socket = new();
    private readonly byte[] _frame;
    private readonly long _period;
    private Task _receiving = Task.CompletedTask;
    private byte[] _receiveBuffer;
    private volatile bool _ending;
    private volatile bool _microphoneOn;
    private int _sendPending;
    private long _begin;
    private uint _sequence;
    private long _sent;
    private long _received;
    private uint _lastSequence;
    private int _state;

    protected LoadSession(int index, LoadOptions options, RunStats stats)
    {
        Index = index;
        Options = options;
        Stats = stats;
        _receiveBuffer = ArrayPool<byte>.Shared.Rent(16 * 1024);
        _frame = new byte[options.FrameBytes];
        _period = Stopwatch.Frequency * options.FrameMilliseconds / 1000;
        _socket.Options.KeepAliveInterval = TimeSpan.Zero;
        // No compression is negotiated (none is offered by default): raw PCM does not compress.
    }

    public int Index { get; }

    public SessionState State => (SessionState)Volatile.Read(ref _state);

    public long Sent => Volatile.Read(ref _sent);

    public long Received => Volatile.Read(ref _received);

    public long OutOfOrder { get; private set; }

    public long Unmarked { get; private set; }

    public long OtherMessages { get; private set; }

    /// <summary>Why the session failed or dropped (a server error code, a close status or a client-side reason).</summary>
    public string? Failure { get; private set; }

    public bool EndedCleanly { get; private set; }

    protected LoadOptions Options { get; }

    protected RunStats Stats { get; }

    protected WebSocket Socket => _socket;

    protected bool Ending => _ending;

    /// <summary>The server confirmed the end (relay: <c>session_ended</c> with <c>client_ended</c>).</summary>
    protected bool EndConfirmed { get; set; }

    /// <summary>Connects and completes the handshake; streaming runs in the background afterwards. Never throws.</summary>
    public async Task StartAsync(FramePacer pacer, CancellationToken cancellationToken)
    {
        SetState(SessionState.Connecting);
        var begin = Stopwatch.GetTimestamp();
        try
        {
            using (var connectTimeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
            {
                connectTimeout.CancelAfter(Options.ConnectTimeout);
                await _socket.ConnectAsync(ConnectUri, connectTimeout.Token);
            }

            _receiving = ReceiveLoopAsync();
            await SendHandshakeAsync(cancellationToken);
            await _started.Task.WaitAsync(Options.ConnectTimeout, cancellationToken);
        }
        catch (Exception ex)
        {
            Fail(SessionState.Failed, Failure ?? Describe("start", ex));
            _socket.Abort();
            return;
        }

        Stats.TimeToStart.Record(BenchFrame.ElapsedMicroseconds(begin, Stopwatch.GetTimestamp()));
        SetState(SessionState.Streaming);
        _begin = Stopwatch.GetTimestamp();
        _microphoneOn = true;
        pacer.Add(this, _begin + _period);
    }

    /// <summary>Stops the microphone; completes when the last frame has been handed to the socket.</summary>
    public Task StopSendingAsync()
    {
        if (!_microphoneOn)
        {
            return Task.CompletedTask; // never streamed, or already stopped
        }

        _microphoneOn = false;
        return _microphoneStopped.Task;
    }

    /// <summary>
    /// Called by the pacer when a frame is due: sends every frame due by <paramref name="now"/>, each
    /// stamped as it is sent. A microphone produces audio whether or not the sender was scheduled on
    /// time, so frames that fell due meanwhile go at once (as a client's capture buffer would) and the
    /// stream keeps real time on average; a burst is bounded, beyond it the stream falls behind.
    /// Returns when the next frame is due, or -1 once the microphone is off.
    /// </summary>
    public long SendDueFrames(long now)
    {
        const int MaxBurst = 25;
        if (!_microphoneOn || State != SessionState.Streaming)
        {
            return StopPacing();
        }

        if (Volatile.Read(ref _sendPending) != 0)
        {
            return now + (_period / 4); // the socket has not taken the last frame yet
        }

        var due = (now - _begin) / _period;
        try
        {
            for (var burst = 0; _sequence < due && burst < MaxBurst && !_ending; burst++)
            {
                _sequence++;
                BenchFrame.FillAudio(_frame, _sequence);
                BenchFrame.Stamp(_frame, _sequence, (uint)Index, Stopwatch.GetTimestamp());
                var sending = SendFrameAsync(_frame, CancellationToken.None);
                Interlocked.Increment(ref _sent);
                if (!sending.IsCompleted)
                {
                    // The socket's buffer is full: the rest waits until it has taken this frame.
                    Volatile.Write(ref _sendPending, 1);
                    _ = CompleteSendAsync(sending);
                    return now + (_period / 4);
                }

                sending.GetAwaiter().GetResult();
            }
        }
        catch (Exception ex)
        {
            OnSendFailed(ex);
            return StopPacing();
        }

        if (_sequence + MaxBurst < due)
        {
            // Hopelessly behind: restart the schedule from now rather than burst forever.
            _begin = now - (_period * _sequence);
        }

        return _begin + ((_sequence + 1) * _period);
    }

    /// <summary>Ends the session the protocol's way and waits for the server's close.</summary>
    public async Task EndAsync()
    {
        if (State != SessionState.Streaming)
        {
            return;
        }

        SetState(SessionState.Ending);
        _ending = true;
        try
        {
            await SendEndAsync(CancellationToken.None).AsTask().WaitAsync(Options.EndTimeout);
            await _receiving.WaitAsync(Options.EndTimeout);
        }
        catch (Exception ex)
        {
            Failure ??= Describe("end", ex);
        }

        var status = _socket.CloseStatus;
        EndedCleanly = EndConfirmed && status == WebSocketCloseStatus.NormalClosure;
        if (!EndedCleanly)
        {
            Failure ??= $"unclean_end:{(status is null ? "no_close" : ((int)status).ToString(System.Globalization.CultureInfo.InvariantCulture))}";
            Stats.CountFailure(Failure);
            _socket.Abort();
        }

        SetState(SessionState.Ended);
    }

    public void Abort() => _socket.Abort();

    public void Dispose()
    {
        _socket.Dispose();
        var buffer = Interlocked.Exchange(ref _receiveBuffer, []);
        if (buffer.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    protected abstract Uri ConnectUri { get; }

    protected abstract ValueTask SendHandshakeAsync(CancellationToken cancellationToken);

    /// <summary>Sends one stamped microphone frame (relay: as is; Gemini: wrapped in <c>realtimeInput</c>).</summary>
    protected abstract ValueTask SendFrameAsync(ReadOnlyMemory<byte> pcm, CancellationToken cancellationToken);

    protected abstract ValueTask SendEndAsync(CancellationToken cancellationToken);

    /// <summary>Handles one whole message from the server.</summary>
    protected abstract void OnMessage(ReadOnlySpan<byte> message, WebSocketMessageType type);

    protected void MarkStarted() => _started.TrySetResult();

    protected void ServerError(string code, bool fatal)
    {
        Stats.CountError(code);
        if (fatal)
        {
            Failure ??= code;
            _started.TrySetException(new InvalidOperationException(code));
        }
    }

    protected void CountOther() => OtherMessages++;

    /// <summary>Matches echoed audio with the frames sent: each whole frame-sized chunk that carries this session's stamp.</summary>
    protected void OnAudio(ReadOnlySpan<byte> audio)
    {
        var now = Stopwatch.GetTimestamp();
        var frameBytes = Options.FrameBytes;
        var chunks = audio.Length >= frameBytes && audio.Length % frameBytes == 0 ? audio.Length / frameBytes : 1;
        for (var i = 0; i < chunks; i++)
        {
            var chunk = audio.Slice(i * frameBytes, Math.Min(frameBytes, audio.Length - (i * frameBytes)));
            if (!BenchFrame.TryRead(chunk, out var sequence, out var sessionIndex, out var timestamp) || sessionIndex != (uint)Index)
            {
                Unmarked++;
                continue;
            }

            if (sequence <= _lastSequence)
            {
                OutOfOrder++;
            }

            _lastSequence = sequence;
            Interlocked.Increment(ref _received);
            if (Stats.Measuring)
            {
                Stats.RoundTrip.Record(BenchFrame.ElapsedMicroseconds(timestamp, now));
            }
        }
    }

    /// <summary>Leaves the pacer; the microphone has stopped once no send is pending.</summary>
    private long StopPacing()
    {
        if (Volatile.Read(ref _sendPending) == 0)
        {
            _microphoneStopped.TrySetResult();
        }

        return -1;
    }

    private async Task CompleteSendAsync(ValueTask sending)
    {
        try
        {
            await sending;
        }
        catch (Exception ex)
        {
            OnSendFailed(ex);
        }

        // A full fence: either the pacer sees no send pending or this sees the microphone off.
        Interlocked.Exchange(ref _sendPending, 0);
        if (!_microphoneOn || State != SessionState.Streaming)
        {
            _microphoneStopped.TrySetResult();
        }
    }

    private void OnSendFailed(Exception ex)
    {
        if (!_ending)
        {
            Fail(SessionState.Dropped, Describe("send", ex));
        }
    }

    private async Task ReceiveLoopAsync()
    {
        var length = 0;
        try
        {
            while (true)
            {
                if (length == _receiveBuffer.Length)
                {
                    var bigger = ArrayPool<byte>.Shared.Rent(_receiveBuffer.Length * 2);
                    _receiveBuffer.AsSpan(0, length).CopyTo(bigger);
                    ArrayPool<byte>.Shared.Return(_receiveBuffer);
                    _receiveBuffer = bigger;
                }

                var result = await _socket.ReceiveAsync(_receiveBuffer.AsMemory(length), CancellationToken.None);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    if (_socket.State == WebSocketState.CloseReceived)
                    {
                        await _socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None);
                    }

                    if (!_ending)
                    {
                        var status = _socket.CloseStatus is { } s ? ((int)s).ToString(System.Globalization.CultureInfo.InvariantCulture) : "none";
                        Fail(SessionState.Dropped, Failure ?? $"closed:{status}");
                        _started.TrySetException(new InvalidOperationException("closed"));
                    }

                    return;
                }

                length += result.Count;
                if (!result.EndOfMessage)
                {
                    continue;
                }

                OnMessage(_receiveBuffer.AsSpan(0, length), result.MessageType);
                length = 0;
            }
        }
        catch (Exception ex)
        {
            _started.TrySetException(ex);
            if (!_ending)
            {
                Fail(SessionState.Dropped, Describe("receive", ex));
            }
        }
    }

    private void Fail(SessionState state, string reason)
    {
        var previous = (SessionState)Interlocked.Exchange(ref _state, (int)state);
        if (previous is SessionState.Failed or SessionState.Dropped)
        {
            Volatile.Write(ref _state, (int)previous);
            return;
        }

        Failure ??= reason;
        Stats.CountFailure(reason);
    }

    private void SetState(SessionState state) => Volatile.Write(ref _state, (int)state);

    private static string Describe(string phase, Exception ex) => ex switch
    {
        TimeoutException => $"{phase}_timeout",
        OperationCanceledException => $"{phase}_timeout",
        WebSocketException wse => $"{phase}_{wse.WebSocketErrorCode}",
        _ => $"{phase}_{ex.GetType().Name}",
    };
}
