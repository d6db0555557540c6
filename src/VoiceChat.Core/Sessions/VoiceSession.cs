using System.Buffers.Text;
using System.Security.Claims;
using System.Security.Cryptography;
using Microsoft.Extensions.Logging;
using VoiceChat.Live;
using VoiceChat.Protocol;

namespace VoiceChat.Sessions;

/// <summary>
/// One connected client. A receive loop (client → model) and a model pump (model → client), in the
/// shape of SignalR's WebSocketsServerTransport: whichever side ends the session records why, the
/// session sends the matching last message and close, waits a bounded time for the client's close,
/// then aborts. Client sends are serialised by one lock; client reads are never cancelled while the
/// session still wants to speak (cancelling a WebSocket read aborts the socket).
/// </summary>
internal sealed partial class VoiceSession : IAsyncDisposable
{
    private readonly IClientTransport _transport;
    private readonly ILiveConnectionFactory _liveFactory;
    private readonly VoiceSessionRegistry _registry;
    private readonly VoiceChatOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly string? _authenticatedUserId;
    private readonly ClaimsPrincipal? _user;

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
    private ILiveConnection? _live;
    private Task _modelPump = Task.CompletedTask;
    private ITimer? _startTimer;
    private ITimer? _watchdog;
    private ITimer? _durationTimer;
    private long _lastReceived;
    private long _sendStarted;
    private InputAllowance _audioAllowance;
    private InputAllowance _textAllowance;
    private CancellationToken _aborted;

    public VoiceSession(
        IClientTransport transport,
        ILiveConnectionFactory liveFactory,
        VoiceSessionRegistry registry,
        VoiceChatOptions options,
        TimeProvider time,
        ILogger logger,
        ClaimsPrincipal? user,
        string? authenticatedUserId)
    {
        _transport = transport;
        _liveFactory = liveFactory;
        _registry = registry;
        _options = options;
        _time = time;
        _logger = logger;
        _user = user;
        _authenticatedUserId = authenticatedUserId;
    }

    /// <summary>The session's id once <c>start_session</c> was accepted.</summary>
    public string? SessionId { get; private set; }

    /// <summary>Runs the session to its end. <paramref name="aborted"/> fires when the client connection is gone.</summary>
    public async Task RunAsync(CancellationToken aborted)
    {
        _aborted = aborted;
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

    public async ValueTask DisposeAsync()
    {
        DisposeTimers();
        if (_live is not null)
        {
            await _live.DisposeAsync().ConfigureAwait(false);
        }

        _stopCts.Dispose();
        _sendLock.Dispose();
        _writer.Dispose();
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
                var frame = await _transport.ReceiveAsync(_options.MaxFrameBytes, _aborted).ConfigureAwait(false);
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
                        StopFatal(VoiceChatErrorCodes.FrameTooLarge, $"Frames are limited to {_options.MaxFrameBytes} bytes.");
                    }
                    else if (_live is null)
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
        SessionId = start.SessionId ?? Guid.NewGuid().ToString("N");
        var now = _time.GetTimestamp();
        var audioBytesPerSecond = start.InputSampleRate * 2.0;
        _audioAllowance = new InputAllowance(_options.MaxAudioAheadOfRealTime.TotalSeconds * audioBytesPerSecond, audioBytesPerSecond, now, _time.TimestampFrequency);
        _textAllowance = new InputAllowance(_options.MaxTextMessagesPerMinute, _options.MaxTextMessagesPerMinute / 60.0, now, _time.TimestampFrequency);
        var request = new LiveSessionRequest(SessionId, userId, start.Voice, start.Language, start.InputSampleRate, start.Metadata, _user, IsUserVerified: _authenticatedUserId is not null);

        ILiveConnection live;
        try
        {
            live = await _liveFactory.ConnectAsync(request, _stopCts.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (_stopCts.IsCancellationRequested)
        {
            return;
        }
        catch (LiveConnectionException ex)
        {
            Log.UpstreamRefused(_logger, SessionId, ex.Error.Code, ex.UpstreamDetail ?? ex.Message);
            Stop(VoiceSessionStop.Fatal, ex.Error);
            return;
        }

        _live = live;
        if (_stopping)
        {
            return; // FinishAsync closes it.
        }

        var resumeToken = Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(24));
        await SendMessageAsync(
            static (writer, state) => writer.SessionStarted(state.SessionId!, state.resumeToken, state.InputSampleRate, resumed: false),
            (SessionId, resumeToken, start.InputSampleRate),
            _stopCts.Token).ConfigureAwait(false);
        Log.SessionStarted(_logger, SessionId, userId, request.IsUserVerified, start.InputSampleRate);

        StartTimers();
        _modelPump = ModelPumpAsync(live);
    }

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
            case ClientMessageKind.Text when _textAllowance.Take(1, _time.GetTimestamp()) is var verdict and not InputVerdict.Accepted:
                await RefuseAsync(verdict, $"At most {_options.MaxTextMessagesPerMinute} text messages a minute; the message was dropped.").ConfigureAwait(false);
                break;
            default:
                await ForwardAsync(message.Kind, default, message.Text).ConfigureAwait(false);
                break;
        }
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
        var live = _live!;
        var token = _stopCts.Token;
        try
        {
            var sending = kind switch
            {
                ClientMessageKind.Audio => live.SendAudioAsync(audio, token),
                ClientMessageKind.Text => live.SendTextAsync(text!, token),
                ClientMessageKind.ActivityStart => live.SendActivityStartAsync(token),
                ClientMessageKind.ActivityEnd => live.SendActivityEndAsync(token),
                ClientMessageKind.AudioStreamEnd => live.SendAudioStreamEndAsync(token),
                _ => throw new InvalidOperationException($"{kind} is not forwarded upstream."),
            };
            await sending.ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
        }
        catch (LiveConnectionException ex)
        {
            Log.UpstreamRefused(_logger, SessionId, ex.Error.Code, ex.UpstreamDetail ?? ex.Message);
            Stop(VoiceSessionStop.Fatal, ex.Error);
        }
        catch (Exception ex) when (ex is not InvalidOperationException)
        {
            Log.UpstreamSendFailed(_logger, SessionId, ex);
            StopFatal(VoiceChatErrorCodes.UpstreamUnavailable, "The connection to the model service was lost.");
        }
    }

    private async Task ModelPumpAsync(ILiveConnection live)
    {
        var token = _stopCts.Token;
        try
        {
            while (true)
            {
                var ev = await live.ReceiveAsync(token).ConfigureAwait(false);
                switch (ev.Kind)
                {
                    case LiveEventKind.Audio:
                        try
                        {
                            await SendAsync(ev.Audio.Memory, binary: true, token).ConfigureAwait(false);
                        }
                        finally
                        {
                            ev.Audio.Return();
                        }

                        break;
                    case LiveEventKind.InputTranscript or LiveEventKind.OutputTranscript:
                        await SendMessageAsync(
                            static (writer, e) => writer.Transcript(e.Kind == LiveEventKind.InputTranscript, e.Text ?? string.Empty, e.Final),
                            ev,
                            token).ConfigureAwait(false);
                        break;
                    case LiveEventKind.Interrupted:
                        await SendAsync(ServerMessageWriter.Interrupted, binary: false, token).ConfigureAwait(false);
                        break;
                    case LiveEventKind.TurnComplete:
                        await SendAsync(ServerMessageWriter.TurnComplete, binary: false, token).ConfigureAwait(false);
                        break;
                    case LiveEventKind.ToolStatus:
                        await SendMessageAsync(static (writer, s) => writer.ToolCall(s.Name, s.Status), ev.ToolStatus!, token).ConfigureAwait(false);
                        break;
                    case LiveEventKind.Error when ev.Error!.Fatal:
                        Stop(VoiceSessionStop.Fatal, ev.Error);
                        return;
                    case LiveEventKind.Error:
                        await SendErrorAsync(ev.Error!.Code, ev.Error.Message).ConfigureAwait(false);
                        break;
                    case LiveEventKind.Closed:
                        Stop(ev.Error is null ? VoiceSessionStop.UpstreamEnded : VoiceSessionStop.Fatal, ev.Error);
                        return;
                    default:
                        break; // Resumption, go-away, usage and raw tool calls are handled below the session.
                }
            }
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
        }
        catch (LiveConnectionException ex)
        {
            Log.UpstreamRefused(_logger, SessionId, ex.Error.Code, ex.UpstreamDetail ?? ex.Message);
            Stop(VoiceSessionStop.Fatal, ex.Error);
        }
        catch (Exception ex)
        {
            Log.UpstreamReceiveFailed(_logger, SessionId, ex);
            StopFatal(VoiceChatErrorCodes.UpstreamUnavailable, "The connection to the model service was lost.");
        }
    }

    private void StartTimers()
    {
        Volatile.Write(ref _lastReceived, _time.GetTimestamp());
        var checkEvery = Math.Min(_options.IdleTimeout.Ticks, _options.SendTimeout.Ticks) / 4;
        var period = TimeSpan.FromTicks(Math.Clamp(checkEvery, TimeSpan.TicksPerMillisecond * 100, TimeSpan.TicksPerSecond * 5));
        _watchdog = _time.CreateTimer(static state => ((VoiceSession)state!).CheckClient(), this, period, period);
        _durationTimer = _time.CreateTimer(
            static state => ((VoiceSession)state!).StopFatal(VoiceChatErrorCodes.MaxDuration, "The session reached its maximum duration."),
            this,
            _options.MaxSessionDuration,
            Timeout.InfiniteTimeSpan);
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
        _durationTimer?.Dispose();
    }

    /// <summary>Sends the last message and close, waits for the client's close within the close timeout, then aborts; closes the model connection.</summary>
    private async Task FinishAsync(Task receiving)
    {
        DisposeTimers();
        using var closing = new CancellationTokenSource(_options.CloseTimeout, _time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(closing.Token, _aborted);
        var token = linked.Token;
        var (stop, error) = (_stop, _stopError);
        Log.SessionEnding(_logger, SessionId, stop, error?.Code);

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

        await _modelPump.ConfigureAwait(false);
        if (_live is not null)
        {
            try
            {
                using var upstreamClosing = new CancellationTokenSource(_options.CloseTimeout, _time);
                await _live.CloseAsync(upstreamClosing.Token).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                Log.UpstreamCloseFailed(_logger, SessionId, ex.Message);
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

    private ValueTask SendErrorAsync(string code, string message) =>
        SendMessageAsync(static (writer, state) => writer.Error(state.code, state.message, fatal: false), (code, message), _stopCts.Token);

    private async ValueTask SendMessageAsync<TState>(Func<ServerMessageWriter, TState, ReadOnlyMemory<byte>> build, TState state, CancellationToken token)
    {
        await _sendLock.WaitAsync(token).ConfigureAwait(false);
        try
        {
            if (!_closeSent && !_clientGone)
            {
                await TimedSendAsync(build(_writer, state), binary: false).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (IsClientGone(ex))
        {
            OnClientGone(ex);
        }
        finally
        {
            Volatile.Write(ref _sendStarted, 0);
            _writer.Release();
            _sendLock.Release();
        }
    }

    private async ValueTask SendAsync(ReadOnlyMemory<byte> data, bool binary, CancellationToken token)
    {
        await _sendLock.WaitAsync(token).ConfigureAwait(false);
        try
        {
            if (!_closeSent && !_clientGone)
            {
                await TimedSendAsync(data, binary).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (IsClientGone(ex))
        {
            OnClientGone(ex);
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

    /// <summary>A send found the client gone: later sends are skipped and the session ends.</summary>
    private void OnClientGone(Exception ex)
    {
        _clientGone = true;
        Log.ClientConnectionLost(_logger, SessionId, ex.Message);
        Stop(VoiceSessionStop.ClientClosed, null);
    }

    private static bool IsClientGone(Exception ex) =>
        ex is System.Net.WebSockets.WebSocketException or IOException or ObjectDisposedException;

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

        [LoggerMessage(8, LogLevel.Debug, "Voice session {SessionId}: closing the model connection failed: {Reason}", EventName = "UpstreamCloseFailed")]
        public static partial void UpstreamCloseFailed(ILogger logger, string? sessionId, string reason);

        [LoggerMessage(9, LogLevel.Warning, "Voice session {SessionId}: a send to the client took longer than {SendTimeout}; the connection is dropped.", EventName = "SendTimedOut")]
        public static partial void SendTimedOut(ILogger logger, string? sessionId, TimeSpan sendTimeout);
    }
}
