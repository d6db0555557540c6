using Microsoft.Extensions.Logging;
using VoiceChat.Diagnostics;
using VoiceChat.Live;
using VoiceChat.Protocol;
using VoiceChat.Sessions.Events;
using VoiceChat.Sessions.Resume;

namespace VoiceChat.Sessions;

/// <summary>
/// The model side of a session, which outlives any one client connection: the upstream
/// conversation, its pump, the numbered server messages kept for replay, and the count of client
/// messages that reached the model. A <see cref="VoiceSession"/> (one client connection) attaches to
/// it; when that connection drops without <c>end_session</c> the conversation waits
/// <see cref="ResumeOptions.Window"/> for a new connection to resume it, buffering the model's output.
/// </summary>
/// <remarks>
/// Delivery (the pump's sends, and an attach with its replay) runs under one gate, so a replay and
/// live output never interleave and each message reaches the client once, in order.
/// </remarks>
internal sealed partial class VoiceConversation : IAsyncDisposable
{
    private readonly ILiveConnection _live;
    private readonly VoiceConversationDirectory _directory;
    private readonly ResumeOptions _resume;
    private readonly TimeSpan _closeTimeout;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly ServerOutbox _outbox;
    private readonly ServerMessageWriter _writer = new();
    private readonly SemaphoreSlim _deliver = new(1, 1);
    private readonly SemaphoreSlim _input = new(1, 1);
    private readonly CancellationTokenSource _stopping = new();
    private readonly TaskCompletionSource _ended = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _modelClosedTask = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Lock _gate = new();
    private readonly SessionEventHub? _eventHub;
    private readonly bool _takenOver;

    private VoiceSession? _attached;
    private ITimer? _detachTimer;
    private ITimer? _durationTimer;
    private Task _pump = Task.CompletedTask;
    private Task _saves = Task.CompletedTask;
    private string _tokenKey;
    private string? _handle;
    private long _clientReceived;
    private long _clientReceivedAtHandle;
    private bool _clientCounts;
    private int _ending;
    private int _modelClosed;
    private int _started;
    private SessionEventQueue? _events;
    private long _startedAt;
    private long _inputAudioBytes;
    private long _outputAudioBytes;

    public VoiceConversation(
        LiveSessionConnection live,
        SessionUser user,
        string tokenKey,
        VoiceChatOptions options,
        VoiceConversationDirectory directory,
        TimeProvider time,
        ILogger logger,
        SessionTelemetry telemetry,
        ResumeState? resumedFrom = null,
        SessionEventHub? events = null)
    {
        Telemetry = telemetry;
        _live = live.Connection;
        Setup = live.Setup;
        User = user;
        _tokenKey = tokenKey;
        _directory = directory;
        _resume = options.Resume;
        _closeTimeout = options.CloseTimeout;
        _time = time;
        _logger = logger;
        _outbox = new ServerOutbox(options.Resume.BufferBytes, resumedFrom?.ServerSent ?? 0);
        _clientReceived = resumedFrom?.ClientReceived ?? 0;
        _clientReceivedAtHandle = _clientReceived;
        _handle = resumedFrom?.ResumptionHandle;
        StartedAt = resumedFrom?.StartedAt ?? time.GetUtcNow();
        _takenOver = resumedFrom is not null;
        _eventHub = events;
        directory.Add(this, tokenKey);
        _durationTimer = time.CreateTimer(
            static state => ((VoiceConversation)state!).RequestEnd(VoiceSessionStop.Fatal, new LiveError(VoiceChatErrorCodes.MaxDuration, "The session reached its maximum duration.", Fatal: true)),
            this,
            TimeLeft(options.MaxSessionDuration, StartedAt, time),
            Timeout.InfiniteTimeSpan);
    }

    /// <summary>When the conversation began, on whichever instance that was.</summary>
    public DateTimeOffset StartedAt { get; }

    public LiveSessionSetup Setup { get; }

    /// <summary>The conversation's span and measurements.</summary>
    public SessionTelemetry Telemetry { get; }

    public SessionUser User { get; }

    public string SessionId => Setup.Request.SessionId;

    /// <summary>No client connection; the resume window runs.</summary>
    public bool IsDetached
    {
        get
        {
            lock (_gate)
            {
                return _attached is null && !HasEnded;
            }
        }
    }

    public bool HasEnded => Volatile.Read(ref _ending) != 0;

    private VoiceSession? AttachedSession()
    {
        lock (_gate)
        {
            return _attached;
        }
    }

    /// <summary>
    /// What the client may let go of (its <c>ack</c>): every message forwarded, or, when another
    /// instance may take the conversation over, only those before the model's last resumable point,
    /// since a takeover asks the client again for everything after it.
    /// </summary>
    public long ClientMessagesSafe => _directory.Store is null ? ClientReceived : Interlocked.Read(ref _clientReceivedAtHandle);

    /// <summary>Client messages forwarded to the model so far.</summary>
    public long ClientReceived => Interlocked.Read(ref _clientReceived);

    /// <summary>Whether <paramref name="user"/> may resume this conversation: the same verified user, or the same claimed id when it was not verified.</summary>
    public bool BelongsTo(SessionUser user) => Matches(User.Id, User.Verified, user);

    public static bool Matches(string ownerId, bool ownerVerified, SessionUser user) =>
        string.Equals(ownerId, user.Id, StringComparison.Ordinal) && (user.Verified || !ownerVerified);

    /// <summary>
    /// Starts reading the model's events, once: after the first attach in this process. The app's
    /// session events start here too (before the pump, so <see cref="VoiceSessionStarted"/> comes first).
    /// </summary>
    public void Start()
    {
        if (Interlocked.Exchange(ref _started, 1) == 0)
        {
            _startedAt = _time.GetTimestamp();
            lock (_gate)
            {
                // A conversation that ended before it started (EndAsync takes this lock after marking the end) raises nothing.
                if (!HasEnded && _eventHub?.Open(SessionId) is { } events)
                {
                    _events = events;
                    events.Publish(new VoiceSessionStarted(SessionId, User.Id, events.Now, User.Verified, _takenOver, Setup.Request.Metadata));
                }
            }

            _pump = Telemetry.RunUnder(PumpAsync);
        }
    }

    /// <summary>
    /// Makes <paramref name="session"/> the conversation's client connection: a connection it had
    /// before is dropped, <c>session_started</c> goes out with a new resume token, then every kept
    /// message after <paramref name="clientReceived"/>, in order, before any new one.
    /// </summary>
    public async ValueTask<bool> AttachAsync(VoiceSession session, long? clientReceived, bool resumed, string? failedReason, CancellationToken cancellationToken)
    {
        await _deliver.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            VoiceSession? previous;
            lock (_gate)
            {
                if (HasEnded)
                {
                    return false;
                }

                previous = _attached;
                _attached = session;
                _detachTimer?.Dispose();
                _detachTimer = null;
            }

            previous?.Abandon();

            // A frame the previous connection was forwarding is counted before the count goes out; later
            // ones from it are refused (ForwardAsync), so the client resends exactly what is missing.
            await _input.WaitAsync(cancellationToken).ConfigureAwait(false);
            _input.Release();
            _clientCounts |= clientReceived is not null;
            var token = ResumeTokens.Create();
            var key = ResumeTokens.Key(token);
            _directory.Index(this, key);
            var oldKey = Interlocked.Exchange(ref _tokenKey, key);
            if (resumed)
            {
                await _directory.ForgetAsync(oldKey, SessionId).ConfigureAwait(false);
            }

            await _directory.SaveAsync(key, ToState()).ConfigureAwait(false);

            _outbox.ResetDelivered(clientReceived);
            var replay = new List<(ReadOnlyMemory<byte> Message, bool Binary, long Sequence)>();
            var replayFrom = _outbox.CollectReplay(clientReceived, replay);
            var start = resumed
                ? new SessionResume(true, ClientReceived, replayFrom, null)
                : SessionResume.Fresh(failedReason);
            if (!await session.SendSessionStartedAsync(token, start).ConfigureAwait(false))
            {
                return true; // gone already: its end detaches it
            }

            foreach (var (message, binary, sequence) in replay)
            {
                if (!await session.SendSequencedAsync(message, binary).ConfigureAwait(false))
                {
                    break;
                }

                _outbox.MarkDelivered(sequence);
            }

            if (resumed)
            {
                Log.Resumed(_logger, SessionId, replay.Count, replayFrom);
            }

            return true;
        }
        finally
        {
            _deliver.Release();
        }
    }

    /// <summary>
    /// The client connection of <paramref name="session"/> dropped without <c>end_session</c>: the
    /// conversation waits for a resume, or ends when resuming is off.
    /// </summary>
    public async ValueTask DetachAsync(VoiceSession session)
    {
        if (_resume.Window <= TimeSpan.Zero)
        {
            await EndAsync(keepShared: false, SessionEndReasons.ClientGone).ConfigureAwait(false);
            return;
        }

        // After the pump's send in flight (which fails fast: the transport is aborted).
        await _deliver.WaitAsync().ConfigureAwait(false);
        try
        {
            lock (_gate)
            {
                if (_attached != session || HasEnded)
                {
                    return;
                }

                _attached = null;
                _detachTimer = _time.CreateTimer(
                    static state => ((VoiceConversation)state!).RequestEnd(VoiceSessionStop.ClientClosed, null),
                    this,
                    _resume.Window,
                    Timeout.InfiniteTimeSpan);
            }
        }
        finally
        {
            _deliver.Release();
        }

        Log.Detached(_logger, SessionId, _resume.Window.TotalSeconds);
    }

    /// <summary>
    /// Forwards client input upstream and counts it; input from a connection that is no longer the
    /// attached one is dropped uncounted (its client resends it on the new connection). A video frame
    /// comes as <paramref name="audio"/> (its image) and <paramref name="text"/> (its mime type).
    /// </summary>
    public async ValueTask ForwardAsync(VoiceSession from, ClientMessageKind kind, ReadOnlyMemory<byte> audio, string? text, CancellationToken token)
    {
        await _input.WaitAsync(token).ConfigureAwait(false);
        try
        {
            if (AttachedSession() != from)
            {
                return;
            }

            var sending = kind switch
            {
                ClientMessageKind.Audio => _live.SendAudioAsync(audio, token),
                ClientMessageKind.Text => _live.SendTextAsync(text!, token),
                ClientMessageKind.ActivityStart => _live.SendActivityStartAsync(token),
                ClientMessageKind.ActivityEnd => _live.SendActivityEndAsync(token),
                ClientMessageKind.AudioStreamEnd => _live.SendAudioStreamEndAsync(token),
                ClientMessageKind.VideoFrame => _live.SendVideoAsync(audio, text!, token),
                _ => throw new InvalidOperationException($"{kind} is not forwarded upstream."),
            };
            await sending.ConfigureAwait(false);
            if (kind != ClientMessageKind.VideoFrame)
            {
                Interlocked.Increment(ref _clientReceived); // frames are not numbered: a stale one is not worth resending
            }

            if (kind == ClientMessageKind.Audio)
            {
                _inputAudioBytes += audio.Length; // under the input gate; read when the conversation ends
            }

            Telemetry.InputForwarded(kind, audio.Length);
        }
        finally
        {
            _input.Release();
        }
    }

    /// <summary>The client's <c>ack</c>: messages it has up to <paramref name="received"/> are let go.</summary>
    public void Acknowledge(long received) => _outbox.Acknowledge(received);

    /// <summary>
    /// Ends the conversation for a reason of its own (the model ended, the duration limit): through the
    /// attached session, which tells its client, or at once when none is attached.
    /// </summary>
    public void RequestEnd(VoiceSessionStop reason, LiveError? error)
    {
        VoiceSession? attached;
        lock (_gate)
        {
            attached = _attached;
        }

        if (attached is not null)
        {
            attached.StopFromConversation(reason, error);
        }
        else
        {
            Telemetry.Ending(reason, error?.Code);
            _ = EndAsync(keepShared: false, SessionEndReasons.For(reason, error));
        }
    }

    /// <summary>
    /// Server shutdown. The model connection closes first, so that another instance can resume its
    /// conversation the moment the client comes back; its state (the latest resumption handle, the
    /// counts) goes to the shared store; then the client hears <c>going_away</c>.
    /// </summary>
    public async Task GoAwayAsync()
    {
        if (HasEnded)
        {
            return;
        }

        await CloseModelAsync().ConfigureAwait(false);
        Task saves;
        lock (_gate)
        {
            saves = _saves;
        }

        await saves.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        await _directory.SaveAsync(Volatile.Read(ref _tokenKey), ToState()).ConfigureAwait(false);
        var attached = AttachedSession();
        if (attached is not null)
        {
            attached.GoAway();
            await _ended.Task.WaitAsync(_closeTimeout + TimeSpan.FromSeconds(1), _time).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
        else
        {
            await EndAsync(keepShared: true, SessionEndReasons.ShuttingDown).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Ends the conversation: closes the model connection and lets go of every kept message. With
    /// <paramref name="keepShared"/> (shutdown) its shared state stays for another instance.
    /// <paramref name="reason"/> (one of <see cref="SessionEndReasons"/> or an error code) goes to the app's
    /// <see cref="VoiceSessionEnded"/>.
    /// </summary>
    public async Task EndAsync(bool keepShared, string reason)
    {
        if (Interlocked.Exchange(ref _ending, 1) != 0)
        {
            await _ended.Task.ConfigureAwait(false);
            return;
        }

        try
        {
            lock (_gate)
            {
                _attached = null;
                _detachTimer?.Dispose();
                _durationTimer?.Dispose();
            }

            var key = Volatile.Read(ref _tokenKey);
            _directory.Remove(this, key);
            if (!keepShared)
            {
                // After any write under way, so an ended session leaves nothing another instance could resume.
                Task saves;
                lock (_gate)
                {
                    saves = _saves;
                }

                await saves.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                await _directory.ForgetAsync(key, SessionId).ConfigureAwait(false);
            }

            await CloseModelAsync().ConfigureAwait(false);
            await _deliver.WaitAsync().ConfigureAwait(false);
            _outbox.Dispose();
            _writer.Dispose();
            _stopping.Dispose();
        }
        finally
        {
            Telemetry.Ended(keepShared ? VoiceSessionStop.ShuttingDown : VoiceSessionStop.ClientClosed);
            _ended.TrySetResult();
            EndEvents(reason);
        }
    }

    /// <summary>
    /// Raises <see cref="VoiceSessionEnded"/> (after the pump stopped: nothing follows it); what is queued
    /// is delivered in the background, so neither the client nor the session's place waits for a handler.
    /// </summary>
    private void EndEvents(string reason)
    {
        SessionEventQueue? events;
        lock (_gate)
        {
            events = _events;
            _events = null;
        }

        if (events is null)
        {
            return;
        }

        var inputBytesPerSecond = Setup.Request.InputSampleRate * 2.0;
        events.Publish(new VoiceSessionEnded(
            SessionId,
            User.Id,
            events.Now,
            reason,
            _time.GetElapsedTime(_startedAt),
            TimeSpan.FromSeconds(Interlocked.Read(ref _inputAudioBytes) / inputBytesPerSecond),
            TimeSpan.FromSeconds(Interlocked.Read(ref _outputAudioBytes) / (ServerMessageWriter.OutputSampleRate * 2.0))));
        _eventHub!.Close(events);
    }

    /// <summary>Stops the pump and closes the model connection, once.</summary>
    private async Task CloseModelAsync()
    {
        if (Interlocked.Exchange(ref _modelClosed, 1) != 0)
        {
            await _modelClosedTask.Task.ConfigureAwait(false);
            return;
        }

        try
        {
            await _stopping.CancelAsync().ConfigureAwait(false);
            await _pump.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            try
            {
                using var closing = new CancellationTokenSource(_closeTimeout, _time);
                await _live.CloseAsync(closing.Token).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                Log.UpstreamCloseFailed(_logger, SessionId, ex.Message);
            }

            await _live.DisposeAsync().ConfigureAwait(false);
        }
        finally
        {
            _modelClosedTask.TrySetResult();
        }
    }

    public async ValueTask DisposeAsync() => await EndAsync(keepShared: false, SessionEndReasons.ClientGone).ConfigureAwait(false);

    /// <summary>
    /// Writes the state to the shared store off the audio path, one write after another, each with the
    /// latest state (a slow store never delays the model's audio).
    /// </summary>
    private void SaveInBackground()
    {
        if (_directory.Store is null)
        {
            return;
        }

        lock (_gate)
        {
            _saves = SaveAfterAsync(_saves);
        }
    }

    private async Task SaveAfterAsync(Task previous)
    {
        await previous.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing | ConfigureAwaitOptions.ForceYielding);
        if (!HasEnded)
        {
            await _directory.SaveAsync(Volatile.Read(ref _tokenKey), ToState()).ConfigureAwait(false);
        }
    }

    private ResumeState ToState() => new(
        SessionId,
        User.Id,
        User.Verified,
        Volatile.Read(ref _handle),
        Setup.SystemInstruction,
        Setup.Voice,
        Setup.Language,
        Setup.Request.InputSampleRate,
        Interlocked.Read(ref _clientReceivedAtHandle),
        _outbox.LastSequence,
        new Dictionary<string, string>(Setup.Request.Metadata, StringComparer.Ordinal),
        StartedAt,
        Setup.Request.Video);

    // A conversation taken over from another instance keeps the time it had left there.
    private static TimeSpan TimeLeft(TimeSpan maxDuration, DateTimeOffset startedAt, TimeProvider time)
    {
        var left = maxDuration - (time.GetUtcNow() - startedAt);
        return left > TimeSpan.Zero ? left : TimeSpan.Zero;
    }

    private async Task PumpAsync()
    {
        var token = _stopping.Token;
        try
        {
            while (true)
            {
                var ev = await _live.ReceiveAsync(token).ConfigureAwait(false);
                switch (ev.Kind)
                {
                    case LiveEventKind.Audio:
                        var taken = SessionTelemetry.FrameTaken();
                        Telemetry.ModelAudio(ev.Audio.Length);
                        _outputAudioBytes += ev.Audio.Length;
                        await DeliverAsync(ev.Audio, binary: true, token).ConfigureAwait(false);
                        SessionTelemetry.FrameRelayed(taken);
                        break;
                    case LiveEventKind.InputTranscript or LiveEventKind.OutputTranscript:
                        if (ev.Kind == LiveEventKind.InputTranscript)
                        {
                            Telemetry.InputTranscript();
                        }

                        if (ev.Final && _events is { } transcripts)
                        {
                            var speaker = ev.Kind == LiveEventKind.InputTranscript ? VoiceSpeaker.User : VoiceSpeaker.Assistant;
                            transcripts.Publish(new VoiceSessionTranscript(SessionId, User.Id, transcripts.Now, speaker, ev.Text ?? string.Empty));
                        }

                        await DeliverAsync(
                            PooledAudio.CopyOf(_writer.Transcript(ev.Kind == LiveEventKind.InputTranscript, ev.Text ?? string.Empty, ev.Final).Span),
                            binary: false,
                            token).ConfigureAwait(false);
                        _writer.Release();
                        break;
                    case LiveEventKind.Interrupted:
                        Telemetry.ReplyEnded();
                        if (_events is { } interruptions)
                        {
                            interruptions.Publish(new VoiceSessionInterrupted(SessionId, User.Id, interruptions.Now));
                        }

                        await DeliverAsync(PooledAudio.CopyOf(ServerMessageWriter.Interrupted.Span), binary: false, token).ConfigureAwait(false);
                        break;
                    case LiveEventKind.TurnComplete:
                        Telemetry.ReplyEnded();
                        await DeliverAsync(PooledAudio.CopyOf(ServerMessageWriter.TurnComplete.Span), binary: false, token).ConfigureAwait(false);
                        break;
                    case LiveEventKind.ToolStatus:
                        if (ev.ToolStatus!.Outcome is { } outcome && _events is { } toolCalls)
                        {
                            toolCalls.Publish(new VoiceSessionToolCall(SessionId, User.Id, toolCalls.Now, ev.ToolStatus.Name, ev.ToolStatus.CallId, outcome, ev.ToolStatus.Duration));
                        }

                        var tool = ev.ToolStatus!;
                        await DeliverAsync(PooledAudio.CopyOf(_writer.ToolCall(tool.Name, tool.Status, tool.CallId, tool.Blocking, tool.Scheduling).Span), binary: false, token).ConfigureAwait(false);
                        _writer.Release();
                        break;
                    case LiveEventKind.Error when ev.Error!.Fatal:
                        RequestEnd(VoiceSessionStop.Fatal, ev.Error);
                        return;
                    case LiveEventKind.Error:
                        // Not numbered, like every error: a client without a connection at that moment misses it.
                        AttachedSession()?.SendNonFatalError(ev.Error!.Code, ev.Error.Message);
                        break;
                    case LiveEventKind.ResumptionUpdate:
                        // The handle restores the model as it was when it issued it: another instance resuming
                        // from it asks the client for everything sent after that point.
                        Interlocked.Exchange(ref _clientReceivedAtHandle, ClientReceived);
                        Volatile.Write(ref _handle, ev.ResumptionHandle);
                        SaveInBackground();
                        break;
                    case LiveEventKind.Usage:
                        Telemetry.Usage(ev.Usage!);
                        if (_events is { } usage)
                        {
                            usage.Publish(new VoiceSessionUsage(
                                SessionId,
                                User.Id,
                                usage.Now,
                                ev.Usage!.PromptTokens,
                                ev.Usage.ResponseTokens,
                                ev.Usage.TotalTokens,
                                ev.Usage.PromptByModality,
                                ev.Usage.ResponseByModality));
                        }

                        break;
                    case LiveEventKind.Closed:
                        RequestEnd(ev.Error is null ? VoiceSessionStop.UpstreamEnded : VoiceSessionStop.Fatal, ev.Error);
                        return;
                    default:
                        break; // Go-away and raw tool calls are handled below the session.
                }
            }
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
        }
        catch (LiveConnectionException ex)
        {
            Log.UpstreamRefused(_logger, SessionId, ex.Error.Code, ex.UpstreamDetail ?? ex.Message);
            RequestEnd(VoiceSessionStop.Fatal, ex.Error);
        }
        catch (Exception ex)
        {
            Log.UpstreamReceiveFailed(_logger, SessionId, ex);
            RequestEnd(VoiceSessionStop.Fatal, new LiveError(VoiceChatErrorCodes.UpstreamUnavailable, "The connection to the model service was lost.", Fatal: true));
        }
    }

    /// <summary>
    /// Numbers one server message and sends it to the attached connection, keeping it for replay when
    /// the client counts what it receives or no client is attached. Takes ownership of <paramref name="message"/>.
    /// </summary>
    private async ValueTask DeliverAsync(PooledAudio message, bool binary, CancellationToken token)
    {
        var kept = false;
        try
        {
            await _deliver.WaitAsync(token).ConfigureAwait(false);
        }
        catch
        {
            message.Return();
            throw;
        }

        try
        {
            VoiceSession? attached;
            lock (_gate)
            {
                attached = _attached;
            }

            long sequence;
            if (_clientCounts || attached is null)
            {
                sequence = _outbox.Append(message, binary);
                kept = true;
            }
            else
            {
                sequence = _outbox.Skip();
            }

            if (attached is not null && await attached.SendSequencedAsync(message.Memory, binary).ConfigureAwait(false))
            {
                _outbox.MarkDelivered(sequence);
            }
        }
        finally
        {
            _deliver.Release();
            if (!kept)
            {
                message.Return();
            }
        }
    }

    private static partial class Log
    {
        [LoggerMessage(1602, LogLevel.Information, "Voice session {SessionId}: the client connection dropped; the session waits {Seconds} s for it to resume.", EventName = "SessionDetached")]
        public static partial void Detached(ILogger logger, string sessionId, double seconds);

        [LoggerMessage(1603, LogLevel.Information, "Voice session {SessionId} resumed: {Replayed} messages replayed from {ReplayFrom}.", EventName = "SessionResumed")]
        public static partial void Resumed(ILogger logger, string sessionId, int replayed, long replayFrom);

        [LoggerMessage(1604, LogLevel.Warning, "Voice session {SessionId}: the model service refused or failed ({ErrorCode}): {UpstreamDetail}", EventName = "ConversationUpstreamRefused")]
        public static partial void UpstreamRefused(ILogger logger, string sessionId, string errorCode, string upstreamDetail);

        [LoggerMessage(1605, LogLevel.Warning, "Voice session {SessionId}: reading from the model service failed.", EventName = "ConversationUpstreamReceiveFailed")]
        public static partial void UpstreamReceiveFailed(ILogger logger, string sessionId, Exception exception);

        [LoggerMessage(1606, LogLevel.Debug, "Voice session {SessionId}: closing the model connection failed: {Reason}", EventName = "ConversationUpstreamCloseFailed")]
        public static partial void UpstreamCloseFailed(ILogger logger, string sessionId, string reason);
    }
}

/// <summary>Who a session belongs to: the verified principal's id, or the client's <c>user_id</c> when nothing verified it.</summary>
internal sealed record SessionUser(string Id, bool Verified);
