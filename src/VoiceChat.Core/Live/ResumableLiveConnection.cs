using System.Runtime.CompilerServices;
using Microsoft.Extensions.Logging;
using VoiceChat.Diagnostics;
using VoiceChat.Live.Gemini;

namespace VoiceChat.Live;

/// <summary>How a session's upstream conversation survives connection resets.</summary>
internal sealed record ResumptionSettings(int MaxReconnectAttempts, TimeSpan ReconnectDelay, int ReplayBufferBytes, int ReplayChunkBytes)
{
    public static ResumptionSettings From(GeminiOptions options, int inputSampleRate)
    {
        var bytesPerSecond = Math.Max(inputSampleRate, 1) * 2;
        return new ResumptionSettings(
            Math.Max(options.MaxReconnectAttempts, 0),
            options.ReconnectDelay < TimeSpan.Zero ? TimeSpan.Zero : options.ReconnectDelay,
            (int)Math.Clamp(options.ReconnectAudioBuffer.TotalSeconds * bytesPerSecond, 2, 64 * 1024 * 1024),
            Math.Max(bytesPerSecond / 10 & ~1, 2)); // replayed in 100 ms messages
    }
}

/// <summary>
/// Keeps one conversation alive across upstream connections. It keeps the latest resumption
/// handle; on <c>goAway</c> it replaces the connection at the next turn boundary (or cuts the turn
/// when time runs out), and on a retriable close it resumes with bounded, backed-off attempts.
/// Either way the old socket is closed first, the microphone audio that arrives meanwhile is kept
/// (bounded) and replayed in order, and history is never replayed. The caller sees one uninterrupted
/// conversation, or a fatal error when it cannot be resumed.
/// </summary>
internal sealed partial class ResumableLiveConnection : ILiveConnection
{
    /// <summary>How long before the service's deadline a turn still under way is cut.</summary>
    private static readonly TimeSpan CutMargin = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan OldConnectionCloseTimeout = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(10);

    /// <summary>A typed message or signal waits this long for a replaced connection before it is given up.</summary>
    private static readonly TimeSpan ControlWaitTimeout = TimeSpan.FromSeconds(60);

    private readonly IResumableLiveConnector _connector;
    private readonly LiveSessionSetup _setup;
    private readonly ResumptionSettings _settings;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly string _sessionId;
    private readonly System.Diagnostics.ActivityContext _span = VoiceChatTelemetry.CurrentContext;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly AudioReplayBuffer _replay;
    private readonly Queue<LiveEvent> _queued = new();
    private readonly CancellationTokenSource _lifetime = new();

    // Guarded by _gate for senders; replaced only by the receive path.
    private ILiveConnection _current;
    private bool _up = true;
    private TaskCompletionSource? _outage;
    private bool _warnedOverflow;

    // Receive path only (single reader).
    private string? _handle;
    private bool _inTurn;
    private bool _rotationPending;
    private long _goAwayAt;
    private TimeSpan _cutAfter;
    private LiveError? _pendingFatal;

    private volatile bool _ending;
    private volatile bool _finished;
    private int _disposed;

    public ResumableLiveConnection(
        ILiveConnection first,
        IResumableLiveConnector connector,
        LiveSessionSetup setup,
        ResumptionSettings settings,
        TimeProvider time,
        ILogger logger,
        string? resumedFrom = null)
    {
        _handle = resumedFrom;
        _current = first;
        _connector = connector;
        _setup = setup;
        _settings = settings;
        _time = time;
        _logger = logger;
        _sessionId = setup.Request.SessionId;
        _replay = new AudioReplayBuffer(settings.ReplayBufferBytes);
    }

    /// <summary>The latest resumption handle (for tests and diagnostics).</summary>
    internal string? ResumptionHandle => _handle;

    public async ValueTask SendAudioAsync(ReadOnlyMemory<byte> pcm16, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_finished)
            {
                return;
            }

            if (_up)
            {
                try
                {
                    await _current.SendAudioAsync(pcm16, cancellationToken).ConfigureAwait(false);
                    return;
                }
                catch (LiveConnectionException)
                {
                    // The connection is failing; the receive path resumes it. Keep this frame for the replay.
                    MarkDown();
                }
            }

            _replay.Write(pcm16.Span);
            var dropped = _replay.TakeDroppedBytes();
            if (dropped > 0 && !_warnedOverflow)
            {
                _warnedOverflow = true;
                Log.ReplayOverflow(_logger, _sessionId, _settings.ReplayBufferBytes);
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>
    /// A frame is only worth sending while it is current: while the connection is being replaced it is
    /// dropped, not kept for the replay as audio is.
    /// </summary>
    public async ValueTask SendVideoAsync(ReadOnlyMemory<byte> image, string mimeType, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_finished || !_up)
            {
                return;
            }

            try
            {
                await _current.SendVideoAsync(image, mimeType, cancellationToken).ConfigureAwait(false);
            }
            catch (LiveConnectionException)
            {
                MarkDown(); // the receive path resumes the connection
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    public ValueTask SendTextAsync(string text, CancellationToken cancellationToken) =>
        SendControlAsync(static (c, t, ct) => c.SendTextAsync(t, ct), text, cancellationToken);

    public ValueTask SendActivityStartAsync(CancellationToken cancellationToken) =>
        SendControlAsync(static (c, _, ct) => c.SendActivityStartAsync(ct), 0, cancellationToken);

    public ValueTask SendActivityEndAsync(CancellationToken cancellationToken) =>
        SendControlAsync(static (c, _, ct) => c.SendActivityEndAsync(ct), 0, cancellationToken);

    public ValueTask SendAudioStreamEndAsync(CancellationToken cancellationToken) =>
        SendControlAsync(static (c, _, ct) => c.SendAudioStreamEndAsync(ct), 0, cancellationToken);

    public ValueTask SendToolResponsesAsync(IReadOnlyList<LiveToolResult> results, CancellationToken cancellationToken) =>
        SendControlAsync(static (c, r, ct) => c.SendToolResponsesAsync(r, ct), results, cancellationToken);

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public async ValueTask<LiveEvent> ReceiveAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            if (_queued.TryDequeue(out var queued))
            {
                return queued;
            }

            if (_finished)
            {
                return LiveEvent.ForClosed(null);
            }

            if (_rotationPending && (!_inTurn || CutRemaining() <= TimeSpan.Zero))
            {
                await ReplaceAsync(_inTurn ? "go_away_cut" : "go_away", cause: null, cancellationToken).ConfigureAwait(false);
                continue;
            }

            LiveEvent e;
            if (_rotationPending)
            {
                // Mid-turn after goAway: wait for the turn to end, but not past the cut.
                using var cut = new CancellationTokenSource(CutRemaining(), _time);
                using var linked = CancellationTokenSource.CreateLinkedTokenSource(cut.Token, cancellationToken);
                try
                {
                    e = await _current.ReceiveAsync(linked.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (cut.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
                {
                    continue;
                }
            }
            else
            {
                e = await _current.ReceiveAsync(cancellationToken).ConfigureAwait(false);
            }

            switch (e.Kind)
            {
                case LiveEventKind.GoAway:
                    if (!_rotationPending)
                    {
                        _rotationPending = true;
                        _goAwayAt = _time.GetTimestamp();
                        _cutAfter = e.TimeLeft > CutMargin ? e.TimeLeft - CutMargin : TimeSpan.Zero;
                        Log.GoAway(_logger, _sessionId, e.TimeLeft.TotalSeconds, _inTurn);
                    }

                    continue;
                case LiveEventKind.ResumptionUpdate:
                    // Only a resumable point is worth returning to (reference §3); the session keeps it too,
                    // so that another process can take the conversation over.
                    if (e.Resumable && !string.IsNullOrEmpty(e.ResumptionHandle))
                    {
                        _handle = e.ResumptionHandle;
                        return e;
                    }

                    continue;
                case LiveEventKind.TurnComplete or LiveEventKind.Interrupted:
                    _inTurn = false;
                    return e;
                case LiveEventKind.Audio or LiveEventKind.OutputTranscript or LiveEventKind.ToolCall or LiveEventKind.GenerationComplete:
                    _inTurn = true;
                    return e;
                case LiveEventKind.Error when e.Error!.Fatal:
                    _pendingFatal = e.Error; // a Closed follows; it decides
                    continue;
                case LiveEventKind.Closed:
                    await OnClosedAsync(e.Error ?? _pendingFatal, cancellationToken).ConfigureAwait(false);
                    _pendingFatal = null;
                    continue;
                default:
                    return e;
            }
        }
    }

    public async ValueTask CloseAsync(CancellationToken cancellationToken)
    {
        _ending = true;
        ILiveConnection current;
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            current = _current;
        }
        finally
        {
            _gate.Release();
        }

        await _lifetime.CancelAsync().ConfigureAwait(false);
        try
        {
            await current.CloseAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (ObjectDisposedException)
        {
            // Being replaced: the replacement sees _ending.
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        _ending = true;
        await _lifetime.CancelAsync().ConfigureAwait(false);
        await _gate.WaitAsync().ConfigureAwait(false);
        try
        {
            _finished = true;
            _outage?.TrySetResult();
            await _current.DisposeAsync().ConfigureAwait(false);
            _replay.Dispose();
        }
        finally
        {
            _gate.Release();
        }

        while (_queued.TryDequeue(out var e))
        {
            e.ReturnAudio();
        }

        _lifetime.Dispose();
    }

    private async ValueTask OnClosedAsync(LiveError? error, CancellationToken cancellationToken)
    {
        if (_ending)
        {
            Finish(null);
            return;
        }

        if (error is { Retriable: false })
        {
            Finish(error);
            return;
        }

        if (_handle is null || _settings.MaxReconnectAttempts == 0)
        {
            // Nothing to resume from. A normal close is the service ending the conversation.
            Log.NotResumable(_logger, _sessionId, error?.Code ?? "closed");
            Finish(error is null ? null : GeminiCloseClassifier.NotResumable);
            return;
        }

        await ReplaceAsync(error?.Code ?? "closed", error, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Replaces the connection: old socket closed first, resumed with the handle, buffered audio replayed.</summary>
    private async ValueTask ReplaceAsync(string reason, LiveError? cause, CancellationToken cancellationToken)
    {
        using var span = VoiceChatTelemetry.StartModelSpan("resume", _sessionId, _span);
        span?.SetTag("voicechat.reconnect.reason", reason);
        _rotationPending = false;
        if (_inTurn)
        {
            // The turn under way is lost with the old connection; the client may stop waiting for it.
            _inTurn = false;
            _queued.Enqueue(LiveEvent.TurnComplete);
        }

        Log.Reconnecting(_logger, _sessionId, reason);
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            MarkDown();
        }
        finally
        {
            _gate.Release();
        }

        var old = _current;
        await RetireAsync(old).ConfigureAwait(false);

        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _lifetime.Token);
        var maxAttempts = Math.Max(_settings.MaxReconnectAttempts, 1);
        var last = cause;
        ILiveConnection? next = null;
        try
        {
            for (var attempt = 1; next is null; attempt++)
            {
                if (attempt > maxAttempts)
                {
                    VoiceChatTelemetry.UpstreamReplaced(reason, "failed");
                    Log.ResumeFailed(_logger, _sessionId, reason, maxAttempts, last?.Code ?? "none");
                    Finish(last ?? GeminiCloseClassifier.NotResumable);
                    return;
                }

                if (attempt > 1)
                {
                    await Task.Delay(Backoff(attempt), _time, linked.Token).ConfigureAwait(false);
                }

                try
                {
                    next = await _connector.ConnectAsync(_setup, _handle, linked.Token).ConfigureAwait(false);
                }
                catch (LiveConnectionException ex)
                {
                    Log.ReconnectAttemptFailed(_logger, _sessionId, attempt, ex.Error.Code, ex.UpstreamDetail ?? string.Empty);
                    last = ex.Error;
                    if (!ex.Error.Retriable)
                    {
                        VoiceChatTelemetry.UpstreamReplaced(reason, "failed");
                        Finish(ex.Error);
                        return;
                    }
                }
            }
        }
        catch (OperationCanceledException) when (_lifetime.IsCancellationRequested)
        {
            Finish(null);
            return;
        }

        await _gate.WaitAsync(CancellationToken.None).ConfigureAwait(false);
        try
        {
            _current = next;
            if (_ending)
            {
                _finished = true;
                _outage?.TrySetResult();
                _outage = null;
                await next.CloseAsync(CancellationToken.None).ConfigureAwait(false);
                _queued.Enqueue(LiveEvent.ForClosed(null));
                return;
            }

            // The audio that arrived meanwhile goes first, in order, before anything newer.
            var replayed = 0;
            while (_replay.Count > 0)
            {
                var chunk = _replay.Peek(_settings.ReplayChunkBytes);
                try
                {
                    await next.SendAudioAsync(chunk, cancellationToken).ConfigureAwait(false);
                }
                catch (LiveConnectionException)
                {
                    // The new connection fails already; its close brings the receive path back here.
                    return;
                }

                replayed += chunk.Length;
                _replay.Consume(chunk.Length);
            }

            _replay.ReleaseIfEmpty();
            _warnedOverflow = false;
            _up = true;
            _outage?.TrySetResult();
            _outage = null;
            VoiceChatTelemetry.UpstreamReplaced(reason, "resumed");
            Log.Resumed(_logger, _sessionId, reason, replayed);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Closes and disposes a connection being replaced, keeping the newest handle it still delivers.</summary>
    private async ValueTask RetireAsync(ILiveConnection old)
    {
        try
        {
            using var timeout = new CancellationTokenSource(OldConnectionCloseTimeout, _time);
            await old.CloseAsync(timeout.Token).ConfigureAwait(false);
            while (true)
            {
                var e = await old.ReceiveAsync(timeout.Token).ConfigureAwait(false);
                if (e.Kind == LiveEventKind.Closed)
                {
                    break;
                }

                if (e.Kind == LiveEventKind.ResumptionUpdate && e.Resumable && !string.IsNullOrEmpty(e.ResumptionHandle))
                {
                    _handle = e.ResumptionHandle;
                }
                else if (e.Kind == LiveEventKind.Audio)
                {
                    e.Audio.Return();
                }
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or LiveConnectionException or ObjectDisposedException)
        {
            // Closed or not, it is disposed below.
        }

        await old.DisposeAsync().ConfigureAwait(false);
    }

    private async ValueTask SendControlAsync<TState>(
        Func<ILiveConnection, TState, CancellationToken, ValueTask> send,
        TState state,
        CancellationToken cancellationToken)
    {
        while (true)
        {
            Task outage;
            await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                if (_finished)
                {
                    return;
                }

                if (_up)
                {
                    try
                    {
                        await send(_current, state, cancellationToken).ConfigureAwait(false);
                        return;
                    }
                    catch (LiveConnectionException)
                    {
                        MarkDown();
                    }
                }

                outage = _outage!.Task;
            }
            finally
            {
                _gate.Release();
            }

            // Wait for the replacement (audio sent meanwhile is replayed before this message).
            try
            {
                await outage.WaitAsync(ControlWaitTimeout, _time, cancellationToken).ConfigureAwait(false);
            }
            catch (TimeoutException ex)
            {
                throw new LiveConnectionException(GeminiCloseClassifier.NotResumable, "no connection to send on", ex);
            }
        }
    }

    /// <summary>Under <see cref="_gate"/>: senders buffer audio and wait with anything else.</summary>
    private void MarkDown()
    {
        _up = false;
        _outage ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    /// <summary>The conversation is over: the caller gets <paramref name="error"/> (if any) and Closed.</summary>
    private void Finish(LiveError? error)
    {
        _finished = true;
        _outage?.TrySetResult();
        if (error is not null)
        {
            var fatal = error with { Fatal = true, Retriable = false };
            _queued.Enqueue(LiveEvent.ForError(fatal));
            _queued.Enqueue(LiveEvent.ForClosed(fatal));
        }
        else
        {
            _queued.Enqueue(LiveEvent.ForClosed(null));
        }
    }

    private TimeSpan CutRemaining()
    {
        var remaining = _cutAfter - _time.GetElapsedTime(_goAwayAt);
        return remaining > TimeSpan.Zero ? remaining : TimeSpan.Zero;
    }

    private TimeSpan Backoff(int attempt)
    {
        // attempt 2 waits the base delay, then it doubles.
        var delay = _settings.ReconnectDelay * Math.Pow(2, attempt - 2);
        return delay > MaxBackoff ? MaxBackoff : delay;
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 1201, Level = LogLevel.Information, Message = "Session {SessionId}: the service will close the connection in {TimeLeftSeconds} s (turn under way: {InTurn}); it will be replaced.")]
        public static partial void GoAway(ILogger logger, string sessionId, double timeLeftSeconds, bool inTurn);

        [LoggerMessage(EventId = 1202, Level = LogLevel.Information, Message = "Session {SessionId}: replacing the upstream connection ({Reason}).")]
        public static partial void Reconnecting(ILogger logger, string sessionId, string reason);

        [LoggerMessage(EventId = 1203, Level = LogLevel.Information, Message = "Session {SessionId}: conversation resumed after {Reason}; {ReplayedBytes} bytes of microphone audio replayed.")]
        public static partial void Resumed(ILogger logger, string sessionId, string reason, int replayedBytes);

        [LoggerMessage(EventId = 1204, Level = LogLevel.Warning, Message = "Session {SessionId}: reconnection attempt {Attempt} failed with {ErrorCode}: {UpstreamDetail}")]
        public static partial void ReconnectAttemptFailed(ILogger logger, string sessionId, int attempt, string errorCode, string upstreamDetail);

        [LoggerMessage(EventId = 1205, Level = LogLevel.Warning, Message = "Session {SessionId}: the conversation could not be resumed after {Reason} ({Attempts} attempts, last error {ErrorCode}).")]
        public static partial void ResumeFailed(ILogger logger, string sessionId, string reason, int attempts, string errorCode);

        [LoggerMessage(EventId = 1206, Level = LogLevel.Warning, Message = "Session {SessionId}: the upstream connection ended ({Reason}) before the service issued a resumption handle; the conversation cannot be resumed.")]
        public static partial void NotResumable(ILogger logger, string sessionId, string reason);

        [LoggerMessage(EventId = 1207, Level = LogLevel.Warning, Message = "Session {SessionId}: more microphone audio arrived during reconnection than the {CapacityBytes}-byte buffer holds; the oldest is dropped.")]
        public static partial void ReplayOverflow(ILogger logger, string sessionId, int capacityBytes);
    }
}
