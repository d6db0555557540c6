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

    /// <summary>Resume mode: the connection was cut and a new one is resuming the session; the microphone waits.</summary>
    Resuming,
    Failed,
    Dropped,
    Ending,
    Ended,
}

/// <summary>
/// One generated voice session: connect, handshake, stream stamped microphone frames in real time,
/// read everything the server sends, end. Subclasses speak a protocol. Streaming allocates nothing
/// per frame: the frame and receive buffers are made once per session, and the microphone is played
/// by the run's <see cref="FramePacer"/>. A counting session (<see cref="LoadOptions.Counting"/>) also
/// counts the numbered server messages and acknowledges them; in resume mode it can cut its connection
/// and resume the session on a new one, resending what the server had not received.
/// </summary>
internal abstract class LoadSession : IDisposable
{
    private readonly TaskCompletionSource _microphoneStopped = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Lock _pacing = new();
    private readonly byte[] _frame;
    private readonly byte[]? _expected;
    private readonly long _period;
    private TaskCompletionSource _started = NewStarted();
    private ClientWebSocket _socket = NewSocket();
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
    private long _numbered;
    private long _ackedAt;
    private long _resumeBegin;
    private bool _awaitingFirstMissed;
    private TaskCompletionSource? _cutRequested;

    protected LoadSession(int index, LoadOptions options, RunStats stats)
    {
        Index = index;
        Options = options;
        Stats = stats;
        _receiveBuffer = ArrayPool<byte>.Shared.Rent(16 * 1024);
        _frame = new byte[options.FrameBytes];
        _period = Stopwatch.Frequency * options.FrameMilliseconds / 1000;
        _expected = options.ResumeCuts > 0 ? new byte[options.FrameBytes] : null;
    }

    public int Index { get; }

    public SessionState State => (SessionState)Volatile.Read(ref _state);

    public long Sent => Volatile.Read(ref _sent);

    public long Received => Volatile.Read(ref _received);

    /// <summary>Echoes of a frame whose echo (or a later one's) had already arrived: repeated or reordered audio.</summary>
    public long OutOfOrder { get; private set; }

    /// <summary>Frames whose echo never came before a later frame's: audio lost in between.</summary>
    public long Skipped { get; private set; }

    /// <summary>Resume mode: echoes whose audio differs from the frame sent.</summary>
    public long Corrupt { get; private set; }

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
        lock (_pacing)
        {
            if (_microphoneOn && State == SessionState.Resuming)
            {
                return now + _period; // frames fall due meanwhile and go once the session has resumed
            }

            return SendDueFramesLocked(now, MaxBurst);
        }
    }

    /// <summary>
    /// Resume mode: cuts the connection the way a lost network does (the socket is aborted, no close
    /// frame) right after the microphone's next frame was handed to it, so that audio is in flight
    /// both ways (the frame to the server, echoes back) when it drops; then reconnects, resumes with
    /// the token and the count of numbered messages received, checks the session resumed, and resends
    /// the frames the server had not received before the microphone goes on. Times reconnect start → <c>session_started</c> and, when the client had missed frames,
    /// → the first of them. Never throws; a session that does not resume is counted as dropped.
    /// </summary>
    public async Task CutAndResumeAsync(CancellationToken cancellationToken)
    {
        var cutMade = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_pacing)
        {
            if (State != SessionState.Streaming || _ending)
            {
                return;
            }

            _cutRequested = cutMade;
        }

        try
        {
            await cutMade.Task.WaitAsync(Options.ConnectTimeout, cancellationToken);
        }
        catch (TimeoutException)
        {
            lock (_pacing)
            {
                // No frame went out meanwhile (the socket is backed up): cut it all the same.
                _cutRequested = null;
                if (State != SessionState.Streaming)
                {
                    return;
                }

                CutLocked();
            }
        }

        Stats.CountCut();
        var cut = _socket;
        try
        {
            await _receiving.WaitAsync(Options.EndTimeout, cancellationToken);
        }
        catch (Exception)
        {
            // the cut connection's receive loop ends with the abort, one way or another
        }

        for (var i = 0; Volatile.Read(ref _sendPending) != 0 && i < 500; i++)
        {
            await Task.Delay(10, cancellationToken); // a send in flight on the cut socket fails at once
        }

        cut.Dispose();
        _socket = NewSocket();
        _started = NewStarted();
        _resumeBegin = Stopwatch.GetTimestamp();
        try
        {
            using (var connectTimeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
            {
                connectTimeout.CancelAfter(Options.ConnectTimeout);
                await _socket.ConnectAsync(ConnectUri, connectTimeout.Token);
            }

            _receiving = ReceiveLoopAsync();
            await SendResumeAsync(Volatile.Read(ref _numbered), cancellationToken);
            await _started.Task.WaitAsync(Options.ConnectTimeout, cancellationToken);
            if (ServerReceived is not { } serverReceived)
            {
                throw new InvalidOperationException(ResumeFailure ?? "resume_not_resumed");
            }

            // What the server had not received before the cut goes again, in order, before new frames.
            var resend = new byte[Options.FrameBytes];
            for (var sequence = (uint)serverReceived + 1; sequence <= _sequence; sequence++)
            {
                BenchFrame.FillAudio(resend, sequence);
                BenchFrame.Stamp(resend, sequence, (uint)Index, Stopwatch.GetTimestamp());
                await SendFrameAsync(resend, cancellationToken);
            }
        }
        catch (Exception ex)
        {
            Fail(SessionState.Dropped, ex is InvalidOperationException ? ex.Message : Describe("resume", ex));
            _socket.Abort();
            return;
        }

        lock (_pacing)
        {
            if (State == SessionState.Resuming)
            {
                SetState(SessionState.Streaming);
            }
        }
    }

    /// <summary>Aborts the socket (no close frame, as a lost network) and holds the microphone until the session resumes.</summary>
    private void CutLocked()
    {
        SetState(SessionState.Resuming);
        _socket.Abort();
    }

    private long SendDueFramesLocked(long now, int maxBurst)
    {
        if (!_microphoneOn || State != SessionState.Streaming)
        {
            return StopPacing();
        }

        if (Volatile.Read(ref _sendPending) != 0)
        {
            return now + (_period / 4); // the socket has not taken the last frame yet
        }

        var due = (now - _begin) / _period;
        var burst = 0;
        try
        {
            if (Options.Counting && Volatile.Read(ref _numbered) - _ackedAt >= Options.AckEvery)
            {
                _ackedAt = Volatile.Read(ref _numbered);
                if (!HandedOver(SendAckAsync(_ackedAt, CancellationToken.None)))
                {
                    return now + (_period / 4);
                }
            }

            for (; _sequence < due && burst < maxBurst && !_ending; burst++)
            {
                if (burst > 0 && _cutRequested is not null)
                {
                    break;
                }

                _sequence++;
                BenchFrame.FillAudio(_frame, _sequence);
                BenchFrame.Stamp(_frame, _sequence, (uint)Index, Stopwatch.GetTimestamp());
                var sending = SendFrameAsync(_frame, CancellationToken.None);
                Interlocked.Increment(ref _sent);
                if (!HandedOver(sending))
                {
                    return now + (_period / 4);
                }
            }
        }
        catch (Exception ex)
        {
            OnSendFailed(ex);
            return StopPacing();
        }

        if (_sequence + maxBurst < due)
        {
            // Hopelessly behind: restart the schedule from now rather than burst forever.
            _begin = now - (_period * _sequence);
        }

        if (_cutRequested is { } cut && burst > 0)
        {
            // The frame just sent is in flight: cut now, on this thread, before its echo can arrive.
            _cutRequested = null;
            CutLocked();
            cut.TrySetResult();
            return now + _period;
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

    /// <summary>A counting client's <c>ack</c> of <paramref name="received"/> numbered server messages.</summary>
    protected virtual ValueTask SendAckAsync(long received, CancellationToken cancellationToken) => ValueTask.CompletedTask;

    /// <summary>Resume mode: the handshake of a new connection that resumes the session, with the count of numbered messages received.</summary>
    protected virtual ValueTask SendResumeAsync(long received, CancellationToken cancellationToken)
        => throw new NotSupportedException("This protocol does not resume.");

    /// <summary>After a resume's <c>session_started</c>: the server's count of numbered client messages, or null when it did not resume.</summary>
    protected long? ServerReceived { get; private set; }

    /// <summary>Why the last resume did not resume (the server's <c>resume_failed</c>).</summary>
    protected string? ResumeFailure { get; private set; }

    /// <summary>A numbered server message arrived (audio, transcripts, turn events): a counting client counts it.</summary>
    protected void CountNumbered() => Interlocked.Increment(ref _numbered);

    /// <summary>Handles one whole message from the server.</summary>
    protected abstract void OnMessage(ReadOnlySpan<byte> message, WebSocketMessageType type);

    protected void MarkStarted() => _started.TrySetResult();

    /// <summary>
    /// <c>session_started</c> on a resuming connection, read on the receive loop (so that nothing this
    /// connection delivers is read before it): <paramref name="serverReceived"/> is the server's count
    /// when it resumed, null when it did not.
    /// </summary>
    protected void MarkResumeStarted(long? serverReceived, string? failure)
    {
        var now = Stopwatch.GetTimestamp();
        ServerReceived = serverReceived;
        ResumeFailure = failure is null ? null : "resume_failed:" + failure;
        if (serverReceived is not null)
        {
            Stats.ResumeToStarted.Record(BenchFrame.ElapsedMicroseconds(_resumeBegin, now));
            // Missed: the server had frames whose echo this client had not received before the cut.
            _awaitingFirstMissed = _lastSequence < serverReceived;
            Stats.CountResumed(_awaitingFirstMissed);
        }

        _started.TrySetResult();
    }

    /// <summary>Whether a resume is under way (the connection is being replaced).</summary>
    protected bool IsResuming => State == SessionState.Resuming;

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

            if (_awaitingFirstMissed)
            {
                _awaitingFirstMissed = false;
                Stats.ResumeToFirstMissed.Record(BenchFrame.ElapsedMicroseconds(_resumeBegin, now));
            }

            if (sequence <= _lastSequence)
            {
                OutOfOrder++;
            }
            else
            {
                Skipped += sequence - _lastSequence - 1;
                _lastSequence = sequence;
            }

            if (_expected is not null && chunk.Length == _expected.Length)
            {
                BenchFrame.FillAudio(_expected, sequence);
                if (!chunk[BenchFrame.HeaderBytes..].SequenceEqual(_expected.AsSpan(BenchFrame.HeaderBytes)))
                {
                    Corrupt++;
                }
            }

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

    /// <summary>Whether the socket took the message at once; if not, the pacer waits until it has.</summary>
    private bool HandedOver(ValueTask sending)
    {
        if (!sending.IsCompleted)
        {
            Volatile.Write(ref _sendPending, 1);
            _ = CompleteSendAsync(sending);
            return false;
        }

        sending.GetAwaiter().GetResult();
        return true;
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
        if (!_microphoneOn || State is not (SessionState.Streaming or SessionState.Resuming))
        {
            _microphoneStopped.TrySetResult();
        }
    }

    private void OnSendFailed(Exception ex)
    {
        if (!_ending && !IsResuming)
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

                    if (!_ending && !IsResuming)
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
            if (!_ending && !IsResuming)
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

    private static TaskCompletionSource NewStarted() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    // No compression is negotiated (none is offered by default): raw PCM does not compress.
    private static ClientWebSocket NewSocket() => new() { Options = { KeepAliveInterval = TimeSpan.Zero } };

    private static string Describe(string phase, Exception ex) => ex switch
    {
        TimeoutException => $"{phase}_timeout",
        OperationCanceledException => $"{phase}_timeout",
        WebSocketException wse => $"{phase}_{wse.WebSocketErrorCode}",
        _ => $"{phase}_{ex.GetType().Name}",
    };
}
