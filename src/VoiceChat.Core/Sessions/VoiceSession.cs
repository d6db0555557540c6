using System.Security.Claims;
using Microsoft.Extensions.Logging;
using VoiceChat.Diagnostics;
using VoiceChat.Live;
using VoiceChat.Protocol;
using VoiceChat.Sessions.Events;
using VoiceChat.Sessions.Resume;

namespace VoiceChat.Sessions;

/// <summary>
/// One client connection. A receive loop (client → model) here and the model pump of the
/// <see cref="VoiceConversation"/> it is attached to (model → client), in the shape of SignalR's
/// WebSocketsServerTransport: whichever side ends the connection records why, the session sends the
/// matching last message and close, waits a bounded time for the client's close, then aborts. Client
/// sends are serialised by one lock; client reads are never cancelled while the session still wants
/// to speak (cancelling a WebSocket read aborts the socket). A connection that drops without
/// <c>end_session</c> leaves its conversation waiting for a resume instead of ending it.
/// </summary>
internal sealed partial class VoiceSession : IAsyncDisposable
{
    private readonly IClientTransport _transport;
    private readonly ILiveConnectionFactory _liveFactory;
    private readonly VoiceSessionRegistry _registry;
    private readonly VoiceConversationDirectory _conversations;
    private readonly VoiceChatOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly string? _authenticatedUserId;
    private readonly ClaimsPrincipal? _user;
    private readonly SessionEventHub? _events;

    private readonly ServerMessageWriter _writer = new();
    private readonly SemaphoreSlim _sendLock = new(1, 1);
    private readonly CancellationTokenSource _stopCts = new();
    private readonly TaskCompletionSource _stopRequested = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Lock _stopGate = new();

    private VoiceSessionStop _stop;
    private LiveError? _stopError;
    private volatile bool _stopping;
    private bool _closeSent;
    private volatile bool _clientGone;
    private VoiceConversation? _conversation;
    private ITimer? _startTimer;
    private ITimer? _watchdog;
    private long _lastReceived;
    private long _sendStarted;
    private InputAllowance _audioAllowance;
    private InputAllowance _textAllowance;
    private FramePacer _videoPacer;
    private bool _video;
    private long _videoFramesDropped;
    private int _receiveLimit;
    private long _lastAckSent;
    private bool _countsAcknowledged;
    private CancellationToken _aborted;

    public VoiceSession(
        IClientTransport transport,
        ILiveConnectionFactory liveFactory,
        VoiceSessionRegistry registry,
        VoiceConversationDirectory conversations,
        VoiceChatOptions options,
        TimeProvider time,
        ILogger logger,
        ClaimsPrincipal? user,
        string? authenticatedUserId,
        SessionEventHub? events = null)
    {
        _transport = transport;
        _liveFactory = liveFactory;
        _registry = registry;
        _conversations = conversations;
        _options = options;
        _time = time;
        _logger = logger;
        _user = user;
        _authenticatedUserId = authenticatedUserId;
        _events = events;
    }

    /// <summary>The session's id once <c>start_session</c> was accepted.</summary>
    public string? SessionId { get; private set; }

    /// <summary>Started (or resumed): shutdown then goes through the conversation, which keeps its state first.</summary>
    public bool HasConversation => Volatile.Read(ref _conversation) is not null;

    /// <summary>Runs the session to its end. <paramref name="aborted"/> fires when the client connection is gone.</summary>
    public async Task RunAsync(CancellationToken aborted)
    {
        _aborted = aborted;
        _receiveLimit = _options.MaxFrameBytes;
        using var scope = _logger.BeginScope(new SessionLogScope(this));
        _startTimer = _time.CreateTimer(
            static state => ((VoiceSession)state!).StopFatal(VoiceChatErrorCodes.StartTimeout, "No valid start_session was received in time."),
            this,
            _options.StartTimeout,
            Timeout.InfiniteTimeSpan);

        var receiving = ReceiveLoopAsync();
        await _stopRequested.Task.ConfigureAwait(false);
        await _stopCts.CancelAsync().ConfigureAwait(false);
        await FinishAsync(receiving).ConfigureAwait(false);
    }

    /// <summary>Asks the session to end with <c>going_away</c> and close 1001 (server shutdown).</summary>
    public void GoAway() => Stop(VoiceSessionStop.ShuttingDown, null);

    /// <summary>The conversation ends for a reason of its own: this connection tells the client.</summary>
    public void StopFromConversation(VoiceSessionStop reason, LiveError? error) => Stop(reason, error);

    /// <summary>A newer connection resumed the conversation: this one is dropped without a word.</summary>
    public void Abandon()
    {
        Stop(VoiceSessionStop.Abandoned, null);
        _transport.Abort();
    }

    public ValueTask DisposeAsync()
    {
        DisposeTimers();
        _stopCts.Dispose();
        _sendLock.Dispose();
        _writer.Dispose();
        return ValueTask.CompletedTask;
    }

    private void Stop(VoiceSessionStop reason, LiveError? error)
    {
        lock (_stopGate)
        {
            if (_stop != VoiceSessionStop.None)
            {
                return;
            }

            _stop = reason;
            _stopError = error;
            _stopping = true;
        }

        _stopRequested.TrySetResult();
    }

    private void StopFatal(string code, string message) => Stop(VoiceSessionStop.Fatal, new LiveError(code, message, Fatal: true));

    private async Task ReceiveLoopAsync()
    {
        try
        {
            while (true)
            {
                var frame = await _transport.ReceiveAsync(_receiveLimit, _aborted).ConfigureAwait(false);
                try
                {
                    if (frame.Kind == ClientFrameKind.Close)
                    {
                        Stop(VoiceSessionStop.ClientClosed, null);
                        return;
                    }

                    if (_stopping)
                    {
                        continue; // Drained until the client answers the close.
                    }

                    Volatile.Write(ref _lastReceived, _time.GetTimestamp());
                    if (frame.Kind == ClientFrameKind.TooLarge)
                    {
                        StopFatal(VoiceChatErrorCodes.FrameTooLarge, $"Frames are limited to {_receiveLimit} bytes.");
                    }
                    else if (_conversation is null)
                    {
                        await HandleBeforeStartAsync(frame).ConfigureAwait(false);
                    }
                    else
                    {
                        await HandleStartedAsync(frame).ConfigureAwait(false);
                    }
                }
                finally
                {
                    frame.Return();
                }
            }
        }
        catch (OperationCanceledException) when (_aborted.IsCancellationRequested)
        {
            Stop(VoiceSessionStop.ClientClosed, null);
        }
        catch (Exception ex) when (IsClientGone(ex))
        {
            Log.ClientConnectionLost(_logger, SessionId, ex.Message);
            Stop(VoiceSessionStop.ClientClosed, null);
        }
        catch (Exception ex)
        {
            Log.SessionFault(_logger, SessionId, ex);
            StopFatal(VoiceChatErrorCodes.InternalError, "The server failed to handle the session.");
        }
    }

    private async ValueTask HandleBeforeStartAsync(ClientFrame frame)
    {
        if (frame.Kind == ClientFrameKind.Binary)
        {
            await SendErrorAsync(VoiceChatErrorCodes.NotStarted, "Send start_session before audio.").ConfigureAwait(false);
            return;
        }

        var message = ClientMessageReader.Read(frame.Memory.Span);
        if (message.IsError)
        {
            await SendErrorAsync(message.ErrorCode!, message.ErrorMessage!).ConfigureAwait(false);
        }
        else if (message.Kind != ClientMessageKind.StartSession)
        {
            message.Audio.Return();
            message.Image.Return();
            await SendErrorAsync(VoiceChatErrorCodes.NotStarted, "The first message must be start_session.").ConfigureAwait(false);
        }
        else
        {
            await StartAsync(message.Start!).ConfigureAwait(false);
        }
    }

    private async ValueTask StartAsync(StartSessionMessage start)
    {
        string userId;
        if (_authenticatedUserId is not null)
        {
            if (start.UserId is not null && !string.Equals(start.UserId, _authenticatedUserId, StringComparison.Ordinal))
            {
                await SendErrorAsync(VoiceChatErrorCodes.UserMismatch, "user_id differs from the authenticated user; leave it out or send the same id.").ConfigureAwait(false);
                return;
            }

            userId = _authenticatedUserId;
        }
        else if (start.UserId is null)
        {
            await SendErrorAsync(VoiceChatErrorCodes.InvalidMessage, "Message 'start_session' needs a 'user_id' field.").ConfigureAwait(false);
            return;
        }
        else
        {
            userId = start.UserId;
        }

        switch (_registry.TryStart(this, userId))
        {
            case VoiceSessionAdmission.ServerBusy:
                StopFatal(VoiceChatErrorCodes.ServerBusy, "The server is at its session limit; try again later.");
                return;
            case VoiceSessionAdmission.UserBusy:
                StopFatal(VoiceChatErrorCodes.TooManySessions, $"This user already runs {_options.MaxSessionsPerUser} sessions; end one first.");
                return;
        }

        // The start timeout covers the client; the model service's setup has its own timeout.
        _startTimer?.Dispose();
        var sessionUser = new SessionUser(userId, Verified: _authenticatedUserId is not null);
        var (conversation, resumed, failedReason) = await OpenConversationAsync(start, sessionUser).ConfigureAwait(false);
        if (conversation is null)
        {
            return;
        }

        _conversation = conversation;
        _countsAcknowledged = start.Received is not null;
        SessionId = conversation.SessionId;
        var now = _time.GetTimestamp();
        var audioBytesPerSecond = conversation.Setup.Request.InputSampleRate * 2.0;
        _audioAllowance = new InputAllowance(_options.MaxAudioAheadOfRealTime.TotalSeconds * audioBytesPerSecond, audioBytesPerSecond, now, _time.TimestampFrequency);
        _textAllowance = new InputAllowance(_options.MaxTextMessagesPerMinute, _options.MaxTextMessagesPerMinute / 60.0, now, _time.TimestampFrequency);
        if (conversation.Setup.Request.Video)
        {
            // Frames faster than the rate are dropped, however long the client keeps on: never fatal.
            _video = true;
            _videoPacer = new FramePacer(_options.MaxVideoFramesPerSecond, now, _time.TimestampFrequency);
            _receiveLimit = VideoFrames.MaxTextFrameBytes(_options.MaxFrameBytes, _options.MaxVideoFrameBytes);
        }

        if (!await conversation.AttachAsync(this, start.Received, resumed, failedReason, _stopCts.Token).ConfigureAwait(false))
        {
            StopFatal(VoiceChatErrorCodes.UpstreamUnavailable, "The session ended while it was being resumed.");
            return;
        }

        conversation.Start();
        if (resumed)
        {
            conversation.Telemetry.Resumed();
            Log.SessionResumed(_logger, SessionId, userId, sessionUser.Verified);
        }
        else
        {
            Log.SessionStarted(_logger, SessionId, userId, sessionUser.Verified, start.InputSampleRate);
        }

        StartTimers();
    }

    /// <summary>
    /// The conversation this connection attaches to: the one of a valid resume token (waiting in this
    /// process, or taken over from the shared store), else a new one. Null when the session stopped.
    /// </summary>
    private async ValueTask<(VoiceConversation? Conversation, bool Resumed, string? FailedReason)> OpenConversationAsync(StartSessionMessage start, SessionUser user)
    {
        string? failedReason = null;
        if (start.ResumeToken is { } token)
        {
            var key = ResumeTokens.Key(token);
            var local = _conversations.TryTake(key);
            if (local is not null && local.BelongsTo(user))
            {
                return (local, true, null);
            }

            if (local is not null)
            {
                _conversations.Index(local, key); // another user's token: it stays where it was
            }
            else if (await TakeOverAsync(key, user, start.Received).ConfigureAwait(false) is { } takenOver)
            {
                return (takenOver, true, null);
            }

            failedReason = "token_not_found";
        }

        SessionId = start.SessionId ?? Guid.NewGuid().ToString("N");
        var video = start.Video && _options.MaxVideoFramesPerSecond > 0;
        var request = new LiveSessionRequest(SessionId, user.Id, start.Voice, start.Language, start.InputSampleRate, start.Metadata, _user, user.Verified, video);
        var telemetry = SessionTelemetry.Start(SessionId, user.Id, user.Verified, start.InputSampleRate, _options.Gemini.Model, takenOver: false);
        var live = await ConnectAsync(() => _liveFactory.ConnectAsync(request, _stopCts.Token), retries: 0, telemetry).ConfigureAwait(false);
        if (live is null)
        {
            return (null, false, null);
        }

        return (new VoiceConversation(live, user, ResumeTokens.Key(ResumeTokens.Create()), _options, _conversations, _time, _logger, telemetry, events: _events), false, failedReason);
    }

    /// <summary>A conversation another instance kept in the shared store: resumed here from its model resumption handle.</summary>
    private async ValueTask<VoiceConversation?> TakeOverAsync(string key, SessionUser user, long? clientHas)
    {
        var state = await _conversations.TakeStoredAsync(key, _stopCts.Token).ConfigureAwait(false);
        if (state is null)
        {
            return null;
        }

        if (!VoiceConversation.Matches(state.UserId, state.UserVerified, user) || state.ResumptionHandle is null)
        {
            if (state.ResumptionHandle is not null)
            {
                await _conversations.SaveAsync(key, state).ConfigureAwait(false); // not this user's: put it back
            }

            return null;
        }

        var request = new LiveSessionRequest(state.SessionId, state.UserId, state.Voice, state.Language, state.InputSampleRate, state.Metadata, _user, user.Verified, state.Video && _options.MaxVideoFramesPerSecond > 0);
        var setup = new LiveSessionSetup(request, state.SystemInstruction, state.Voice, state.Language);
        SessionId = state.SessionId;
        // The model may still be closing the other instance's connection: a retriable refusal is tried again.
        var telemetry = SessionTelemetry.Start(SessionId, user.Id, user.Verified, state.InputSampleRate, _options.Gemini.Model, takenOver: true);
        var live = await ConnectAsync(() => _liveFactory.ResumeAsync(setup, state.ResumptionHandle, _stopCts.Token), _options.Gemini.MaxReconnectAttempts, telemetry).ConfigureAwait(false);
        // New messages are numbered after everything the client has, which may be more than was stored.
        var resumedFrom = state with { ServerSent = Math.Max(state.ServerSent, clientHas ?? 0) };
        return live is null ? null : new VoiceConversation(live, user, key, _options, _conversations, _time, _logger, telemetry, resumedFrom, _events);
    }

    private async ValueTask<LiveSessionConnection?> ConnectAsync(Func<ValueTask<LiveSessionConnection>> connect, int retries, SessionTelemetry telemetry)
    {
        var live = await ConnectAsync(connect, retries).ConfigureAwait(false);
        if (live is null)
        {
            telemetry.Ending(_stop == VoiceSessionStop.None ? VoiceSessionStop.ClientClosed : _stop, _stopError?.Code);
            telemetry.Ended(VoiceSessionStop.ClientClosed);
        }

        return live;
    }

    private async ValueTask<LiveSessionConnection?> ConnectAsync(Func<ValueTask<LiveSessionConnection>> connect, int retries)
    {
        LiveSessionConnection live;
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                live = await connect().ConfigureAwait(false);
                break;
            }
            catch (OperationCanceledException) when (_stopCts.IsCancellationRequested)
            {
                return null;
            }
            catch (LiveConnectionException ex) when (ex.Error.Retriable && attempt < retries)
            {
                try
                {
                    await Task.Delay(_options.Gemini.ReconnectDelay * (attempt + 1), _time, _stopCts.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return null;
                }
            }
            catch (LiveConnectionException ex)
            {
                Log.UpstreamRefused(_logger, SessionId, ex.Error.Code, ex.UpstreamDetail ?? ex.Message);
                Stop(VoiceSessionStop.Fatal, ex.Error);
                return null;
            }
        }

        if (_stopping)
        {
            await live.Connection.DisposeAsync().ConfigureAwait(false);
            return null;
        }

        return live;
    }

    /// <summary>Sends <c>session_started</c> (the conversation calls it under its delivery gate).</summary>
    public ValueTask<bool> SendSessionStartedAsync(string resumeToken, SessionResume resume) =>
        SendMessageAsync(
            static (writer, state) => writer.SessionStarted(state.SessionId, state.resumeToken, state.InputSampleRate, state.resume, state.VideoFramesPerSecond),
            (SessionId: SessionId!, resumeToken, _conversation!.Setup.Request.InputSampleRate, resume, VideoFramesPerSecond: _conversation.Setup.Request.Video ? _options.MaxVideoFramesPerSecond : (double?)null),
            _stopCts.Token);

    /// <summary>A non-fatal error from the model side, sent without waiting (errors are not numbered).</summary>
    public void SendNonFatalError(string code, string message) => _ = SendErrorAsync(code, message).AsTask();

    /// <summary>Sends one numbered server message; false when the client is gone.</summary>
    public ValueTask<bool> SendSequencedAsync(ReadOnlyMemory<byte> message, bool binary) => SendAsync(message, binary, _stopCts.Token);

    private async ValueTask HandleStartedAsync(ClientFrame frame)
    {
        if (frame.Kind == ClientFrameKind.Binary)
        {
            if (frame.Length % 2 != 0)
            {
                await SendErrorAsync(VoiceChatErrorCodes.InvalidAudio, "PCM16 audio must have an even number of bytes; the frame was dropped.").ConfigureAwait(false);
                return;
            }

            var verdict = _audioAllowance.Take(frame.Length, _time.GetTimestamp());
            if (verdict != InputVerdict.Accepted)
            {
                await RefuseAsync(verdict, "Audio arrives faster than real time; the excess was dropped.").ConfigureAwait(false);
                return;
            }

            await ForwardAsync(ClientMessageKind.Audio, frame.Memory, null).ConfigureAwait(false);
            return;
        }

        var message = ClientMessageReader.Read(frame.Memory.Span);
        if (message.IsError)
        {
            await SendErrorAsync(message.ErrorCode!, message.ErrorMessage!).ConfigureAwait(false);
            return;
        }

        switch (message.Kind)
        {
            case ClientMessageKind.StartSession:
                await SendErrorAsync(VoiceChatErrorCodes.AlreadyStarted, "The session has already started.").ConfigureAwait(false);
                break;
            case ClientMessageKind.Audio:
                try
                {
                    var verdict = _audioAllowance.Take(message.Audio.Length, _time.GetTimestamp());
                    if (verdict == InputVerdict.Accepted)
                    {
                        await ForwardAsync(ClientMessageKind.Audio, message.Audio.Memory, null).ConfigureAwait(false);
                    }
                    else
                    {
                        await RefuseAsync(verdict, "Audio arrives faster than real time; the excess was dropped.").ConfigureAwait(false);
                    }
                }
                finally
                {
                    message.Audio.Return();
                }

                break;
            case ClientMessageKind.VideoFrame:
                try
                {
                    await HandleVideoFrameAsync(message).ConfigureAwait(false);
                }
                finally
                {
                    message.Image.Return();
                }

                break;
            case ClientMessageKind.ActivityStart or ClientMessageKind.ActivityEnd
                when _options.Gemini.ActivityDetection != ActivityDetectionMode.Manual:
                await SendErrorAsync(VoiceChatErrorCodes.ActivityDetectionAutomatic, "The server detects speech itself; activity signals are only accepted in manual activity detection mode.").ConfigureAwait(false);
                break;
            case ClientMessageKind.EndSession:
                Stop(VoiceSessionStop.ClientEnded, null);
                break;
            case ClientMessageKind.Ping:
                await SendMessageAsync(static (writer, id) => writer.Pong(id), message.Text, _stopCts.Token).ConfigureAwait(false);
                break;
            case ClientMessageKind.Ack:
                _conversation!.Acknowledge(message.Received);
                break;
            case ClientMessageKind.Text when _textAllowance.Take(1, _time.GetTimestamp()) is var verdict and not InputVerdict.Accepted:
                await RefuseAsync(verdict, $"At most {_options.MaxTextMessagesPerMinute} text messages a minute; the message was dropped.").ConfigureAwait(false);
                break;
            default:
                await ForwardAsync(message.Kind, default, message.Text).ConfigureAwait(false);
                break;
        }
    }

    /// <summary>
    /// A camera frame: forwarded when the session declared video, the image is within its limit and the
    /// frame rate allows it. Frames over the rate are dropped and counted; the client hears it once.
    /// </summary>
    private async ValueTask HandleVideoFrameAsync(ClientMessage message)
    {
        if (!_video)
        {
            var why = _options.MaxVideoFramesPerSecond > 0
                ? "Declare \"video\":true in start_session to send video frames; the frame was dropped."
                : "This server takes no video; the frame was dropped.";
            await SendErrorAsync(VoiceChatErrorCodes.VideoNotEnabled, why).ConfigureAwait(false);
            return;
        }

        if (message.Image.Length > _options.MaxVideoFrameBytes)
        {
            await SendErrorAsync(VoiceChatErrorCodes.VideoFrameTooLarge, $"Video frames are limited to {_options.MaxVideoFrameBytes} bytes; the frame was dropped.").ConfigureAwait(false);
            return;
        }

        if (!_videoPacer.TryTake(_time.GetTimestamp()))
        {
            if (++_videoFramesDropped == 1)
            {
                await SendErrorAsync(VoiceChatErrorCodes.VideoFramesDropped, $"At most {_options.MaxVideoFramesPerSecond.ToString(System.Globalization.CultureInfo.InvariantCulture)} video frames a second; faster frames are dropped.").ConfigureAwait(false);
            }

            return;
        }

        await ForwardAsync(ClientMessageKind.VideoFrame, message.Image.Memory, message.MimeType).ConfigureAwait(false);
    }

    /// <summary>Input over its allowance is dropped: the client is told once, and the session ends when it keeps on.</summary>
    private ValueTask RefuseAsync(InputVerdict verdict, string message)
    {
        switch (verdict)
        {
            case InputVerdict.Refused:
                return SendErrorAsync(VoiceChatErrorCodes.RateLimited, message);
            case InputVerdict.Exceeded:
                StopFatal(VoiceChatErrorCodes.RateLimited, "The client kept sending faster than its limits allow.");
                break;
        }

        return ValueTask.CompletedTask;
    }

    /// <summary>Sends client input upstream; a failing model connection ends the session with its typed error.</summary>
    private async ValueTask ForwardAsync(ClientMessageKind kind, ReadOnlyMemory<byte> audio, string? text)
    {
        var conversation = _conversation!;
        var token = _stopCts.Token;
        try
        {
            await conversation.ForwardAsync(this, kind, audio, text, token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
            return;
        }
        catch (LiveConnectionException ex)
        {
            Log.UpstreamRefused(_logger, SessionId, ex.Error.Code, ex.UpstreamDetail ?? ex.Message);
            Stop(VoiceSessionStop.Fatal, ex.Error);
            return;
        }
        catch (Exception ex) when (ex is not InvalidOperationException)
        {
            Log.UpstreamSendFailed(_logger, SessionId, ex);
            StopFatal(VoiceChatErrorCodes.UpstreamUnavailable, "The connection to the model service was lost.");
            return;
        }

        // A counting client hears now and then how many of its messages arrived, so it can let them go.
        if (_countsAcknowledged && _time.GetElapsedTime(_lastAckSent) >= _options.Resume.AckInterval)
        {
            _lastAckSent = _time.GetTimestamp();
            await SendMessageAsync(static (writer, received) => writer.Ack(received), conversation.ClientMessagesSafe, token).ConfigureAwait(false);
        }
    }

    private void StartTimers()
    {
        Volatile.Write(ref _lastReceived, _time.GetTimestamp());
        var checkEvery = Math.Min(_options.IdleTimeout.Ticks, _options.SendTimeout.Ticks) / 4;
        var period = TimeSpan.FromTicks(Math.Clamp(checkEvery, TimeSpan.TicksPerMillisecond * 100, TimeSpan.TicksPerSecond * 5));
        _watchdog = _time.CreateTimer(static state => ((VoiceSession)state!).CheckClient(), this, period, period);
    }

    /// <summary>
    /// Ends a session whose client went quiet, or drops one that does not read: a send that has
    /// waited longer than the send timeout (SignalR's transport send timeout) aborts the connection,
    /// which frees the session's place and its model connection.
    /// </summary>
    private void CheckClient()
    {
        var sendStarted = Volatile.Read(ref _sendStarted);
        if (sendStarted != 0 && _time.GetElapsedTime(sendStarted) >= _options.SendTimeout)
        {
            Log.SendTimedOut(_logger, SessionId, _options.SendTimeout);
            _clientGone = true;
            Stop(VoiceSessionStop.ClientClosed, null);
            _transport.Abort();
        }
        else if (_time.GetElapsedTime(Volatile.Read(ref _lastReceived)) >= _options.IdleTimeout)
        {
            StopFatal(VoiceChatErrorCodes.IdleTimeout, "Nothing was received from the client for too long.");
        }
    }

    private void DisposeTimers()
    {
        _startTimer?.Dispose();
        _watchdog?.Dispose();
    }

    /// <summary>
    /// Sends the last message and close, waits for the client's close within the close timeout, then
    /// aborts. Then the conversation either waits for a resume (the client dropped without
    /// <c>end_session</c>) or ends.
    /// </summary>
    private async Task FinishAsync(Task receiving)
    {
        DisposeTimers();
        var (stop, error) = (_stop, _stopError);
        Log.SessionEnding(_logger, SessionId, stop, error?.Code);
        if (_videoFramesDropped > 0)
        {
            Log.VideoFramesDropped(_logger, SessionId, _videoFramesDropped, _options.MaxVideoFramesPerSecond);
        }

        if (stop == VoiceSessionStop.Abandoned)
        {
            _transport.Abort(); // a newer connection has the conversation
            await receiving.ConfigureAwait(false);
            return;
        }

        using var closing = new CancellationTokenSource(_options.CloseTimeout, _time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(closing.Token, _aborted);
        var token = linked.Token;
        try
        {
            switch (stop)
            {
                case VoiceSessionStop.ClientEnded:
                    await SendLastAsync(static (w, _) => w.SessionEnded("client_ended"), 0, VoiceChatCloseCodes.Normal, "session ended", token).ConfigureAwait(false);
                    break;
                case VoiceSessionStop.UpstreamEnded:
                    await SendLastAsync(static (w, _) => w.SessionEnded("upstream_ended"), 0, VoiceChatCloseCodes.Normal, "session ended", token).ConfigureAwait(false);
                    break;
                case VoiceSessionStop.ShuttingDown:
                    await SendLastAsync(static (w, _) => w.GoingAway("server_shutting_down"), 0, VoiceChatCloseCodes.GoingAway, "server shutting down", token).ConfigureAwait(false);
                    break;
                case VoiceSessionStop.Fatal:
                    await SendLastAsync(static (w, e) => w.Error(e.Code, e.Message, fatal: true), error!, VoiceChatCloseCodes.ForError(error!.Code), error.Code, token).ConfigureAwait(false);
                    break;
                default:
                    await SendLastAsync<int>(null, 0, VoiceChatCloseCodes.Normal, string.Empty, token).ConfigureAwait(false);
                    break;
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException || IsClientGone(ex))
        {
            // The client is gone or does not read: it is aborted below.
        }

        // The client answers the close through the receive loop; one that does not is dropped.
        try
        {
            await receiving.WaitAsync(token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            _transport.Abort();
            await receiving.ConfigureAwait(false);
        }

        if (_conversation is { } conversation)
        {
            conversation.Telemetry.Ending(stop, error?.Code);
            if (stop == VoiceSessionStop.ClientClosed)
            {
                await conversation.DetachAsync(this).ConfigureAwait(false);
            }
            else
            {
                await conversation.EndAsync(keepShared: stop == VoiceSessionStop.ShuttingDown, SessionEndReasons.For(stop, error)).ConfigureAwait(false);
            }
        }
    }

    private async ValueTask SendLastAsync<TState>(Func<ServerMessageWriter, TState, ReadOnlyMemory<byte>>? build, TState state, int closeCode, string reason, CancellationToken token)
    {
        await _sendLock.WaitAsync(token).ConfigureAwait(false);
        try
        {
            if (_closeSent)
            {
                return;
            }

            _closeSent = true;
            if (_clientGone)
            {
                return;
            }

            // The close timeout bounds these sends: cancelling one aborts a client that does not read.
            if (build is not null)
            {
                try
                {
                    await _transport.SendAsync(build(_writer, state), binary: false, token).ConfigureAwait(false);
                }
                finally
                {
                    _writer.Release();
                }
            }

            await _transport.CloseAsync(closeCode, reason, token).ConfigureAwait(false);
        }
        finally
        {
            _sendLock.Release();
        }
    }

    private async ValueTask SendErrorAsync(string code, string message) =>
        await SendMessageAsync(static (writer, state) => writer.Error(state.code, state.message, fatal: false), (code, message), _stopCts.Token).ConfigureAwait(false);

    /// <summary>Sends one text message; false when it was not sent (the client is gone or the session is closing).</summary>
    private async ValueTask<bool> SendMessageAsync<TState>(Func<ServerMessageWriter, TState, ReadOnlyMemory<byte>> build, TState state, CancellationToken token)
    {
        if (!await TryEnterSendAsync(token).ConfigureAwait(false))
        {
            return false;
        }

        try
        {
            if (_closeSent || _clientGone || _stop == VoiceSessionStop.ClientClosed)
            {
                return false;
            }

            await TimedSendAsync(build(_writer, state), binary: false).ConfigureAwait(false);
            return true;
        }
        catch (Exception ex) when (IsClientGone(ex))
        {
            OnClientGone(ex);
            return false;
        }
        finally
        {
            Volatile.Write(ref _sendStarted, 0);
            _writer.Release();
            _sendLock.Release();
        }
    }

    /// <summary>Sends one message; false when it was not sent (the client is gone or the session is closing).</summary>
    private async ValueTask<bool> SendAsync(ReadOnlyMemory<byte> data, bool binary, CancellationToken token)
    {
        if (!await TryEnterSendAsync(token).ConfigureAwait(false))
        {
            return false;
        }

        try
        {
            // A client that dropped gets nothing more on this connection: what follows waits for its resume.
            if (_closeSent || _clientGone || _stop == VoiceSessionStop.ClientClosed)
            {
                return false;
            }

            await TimedSendAsync(data, binary).ConfigureAwait(false);
            return true;
        }
        catch (Exception ex) when (IsClientGone(ex))
        {
            OnClientGone(ex);
            return false;
        }
        finally
        {
            Volatile.Write(ref _sendStarted, 0);
            _sendLock.Release();
        }
    }

    /// <summary>
    /// A send under the watchdog's eye (<see cref="CheckClient"/>); the caller holds the send lock
    /// and clears <see cref="_sendStarted"/> when the send is over.
    /// </summary>
    private ValueTask TimedSendAsync(ReadOnlyMemory<byte> data, bool binary)
    {
        Volatile.Write(ref _sendStarted, _time.GetTimestamp());
        return _transport.SendAsync(data, binary, _aborted);
    }

    private async ValueTask<bool> TryEnterSendAsync(CancellationToken token)
    {
        try
        {
            await _sendLock.WaitAsync(token).ConfigureAwait(false);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    /// <summary>A send found the client gone: later sends are skipped and the session ends.</summary>
    private void OnClientGone(Exception ex)
    {
        _clientGone = true;
        Log.ClientConnectionLost(_logger, SessionId, ex.Message);
        Stop(VoiceSessionStop.ClientClosed, null);
    }

    /// <summary>
    /// The client's connection failed or went away: a socket error, or a send cancelled because the
    /// server already saw the connection abort (it may notice before the session does).
    /// </summary>
    private bool IsClientGone(Exception ex) =>
        ex is System.Net.WebSockets.WebSocketException or IOException or ObjectDisposedException
        || (ex is OperationCanceledException && _aborted.IsCancellationRequested);

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Information, "Voice session {SessionId} started for user {UserId} (verified: {UserVerified}) at {SampleRate} Hz.", EventName = "SessionStarted")]
        public static partial void SessionStarted(ILogger logger, string sessionId, string userId, bool userVerified, int sampleRate);

        [LoggerMessage(2, LogLevel.Information, "Voice session {SessionId} ending: {Reason} {ErrorCode}.", EventName = "SessionEnding")]
        public static partial void SessionEnding(ILogger logger, string? sessionId, VoiceSessionStop reason, string? errorCode);

        [LoggerMessage(3, LogLevel.Warning, "Voice session {SessionId}: the model service refused or failed ({ErrorCode}): {UpstreamDetail}", EventName = "UpstreamRefused")]
        public static partial void UpstreamRefused(ILogger logger, string? sessionId, string errorCode, string upstreamDetail);

        [LoggerMessage(4, LogLevel.Warning, "Voice session {SessionId}: sending to the model service failed.", EventName = "UpstreamSendFailed")]
        public static partial void UpstreamSendFailed(ILogger logger, string? sessionId, Exception exception);

        [LoggerMessage(5, LogLevel.Warning, "Voice session {SessionId}: reading from the model service failed.", EventName = "UpstreamReceiveFailed")]
        public static partial void UpstreamReceiveFailed(ILogger logger, string? sessionId, Exception exception);

        [LoggerMessage(6, LogLevel.Debug, "Voice session {SessionId}: the client connection was lost: {Reason}", EventName = "ClientConnectionLost")]
        public static partial void ClientConnectionLost(ILogger logger, string? sessionId, string reason);

        [LoggerMessage(7, LogLevel.Error, "Voice session {SessionId} failed.", EventName = "SessionFault")]
        public static partial void SessionFault(ILogger logger, string? sessionId, Exception exception);

        [LoggerMessage(9, LogLevel.Warning, "Voice session {SessionId}: a send to the client took longer than {SendTimeout}; the connection is dropped.", EventName = "SendTimedOut")]
        public static partial void SendTimedOut(ILogger logger, string? sessionId, TimeSpan sendTimeout);

        [LoggerMessage(31, LogLevel.Information, "Voice session {SessionId}: {Dropped} video frames over the rate of {FramesPerSecond} a second were dropped.", EventName = "VideoFramesDropped")]
        public static partial void VideoFramesDropped(ILogger logger, string? sessionId, long dropped, double framesPerSecond);

        [LoggerMessage(10, LogLevel.Information, "Voice session {SessionId} resumed for user {UserId} (verified: {UserVerified}) on a new connection.", EventName = "SessionResumedHere")]
        public static partial void SessionResumed(ILogger logger, string sessionId, string userId, bool userVerified);
    }
}
