using System.Threading.Channels;
using Microsoft.Extensions.Logging;

namespace VoiceChat.Sessions.Events;

/// <summary>
/// One conversation's events on their way to the app's handlers: a bounded channel that drops what
/// finds it full (so raising an event never waits), drained by one background task that calls each
/// handler in turn and logs what they throw. <see cref="CompleteAsync"/> delivers what is left within
/// the drain timeout, then cancels the handlers and drops the rest.
/// </summary>
internal sealed partial class SessionEventQueue : IDisposable
{
    private readonly string _sessionId;
    private readonly IVoiceSessionEventHandler[] _handlers;
    private readonly TimeSpan _drainTimeout;
    private readonly SessionEventHub _hub;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Channel<VoiceSessionEvent> _channel;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _drain;
    private int _dropped;
    private int _dropping;

    public SessionEventQueue(string sessionId, IVoiceSessionEventHandler[] handlers, int capacity, TimeSpan drainTimeout, SessionEventHub hub, TimeProvider time, ILogger logger)
    {
        _sessionId = sessionId;
        _handlers = handlers;
        _drainTimeout = drainTimeout;
        _hub = hub;
        _time = time;
        _logger = logger;
        _channel = Channel.CreateBounded<VoiceSessionEvent>(
            new BoundedChannelOptions(capacity) { FullMode = BoundedChannelFullMode.DropWrite, SingleReader = true },
            OnFull);
        _drain = Task.Run(DrainAsync);
    }

    /// <summary>Now, for the events' timestamps.</summary>
    public DateTimeOffset Now => _time.GetUtcNow();

    /// <summary>Queues an event without waiting; it is dropped (and counted) when the queue is full or completed.</summary>
    public void Publish(VoiceSessionEvent sessionEvent)
    {
        if (!_channel.Writer.TryWrite(sessionEvent))
        {
            Drop(1);
        }
    }

    /// <summary>No more events: waits up to the drain timeout for the queued ones to be delivered.</summary>
    public async Task CompleteAsync()
    {
        _channel.Writer.TryComplete();
        try
        {
            await _drain.WaitAsync(_drainTimeout, _time).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            // The handler in progress is told to stop; the drain loop drops what is left.
            try
            {
                await _stop.CancelAsync().ConfigureAwait(false);
            }
            catch (ObjectDisposedException)
            {
                // The drain finished meanwhile.
            }
        }
    }

    /// <summary>Called by the drain when it is over.</summary>
    public void Dispose() => _stop.Dispose();

    private void OnFull(VoiceSessionEvent dropped)
    {
        if (Interlocked.Exchange(ref _dropping, 1) == 0)
        {
            Log.QueueFull(_logger, _sessionId, dropped.GetType().Name);
        }

        Drop(1);
    }

    private void Drop(int count)
    {
        Interlocked.Add(ref _dropped, count);
        _hub.OnDropped(count);
    }

    private async Task DrainAsync()
    {
        var reader = _channel.Reader;
        var token = _stop.Token;
        try
        {
            while (await reader.WaitToReadAsync(token).ConfigureAwait(false))
            {
                while (!token.IsCancellationRequested && reader.TryRead(out var sessionEvent))
                {
                    foreach (var handler in _handlers)
                    {
                        await DeliverAsync(handler, sessionEvent, token).ConfigureAwait(false);
                    }

                    Volatile.Write(ref _dropping, 0);
                }
            }
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
        }

        var left = 0;
        while (reader.TryRead(out _))
        {
            left++;
        }

        if (left > 0)
        {
            Drop(left);
        }

        var dropped = Volatile.Read(ref _dropped);
        if (dropped > 0)
        {
            Log.Dropped(_logger, _sessionId, dropped, left);
        }

        Dispose();
    }

    private async ValueTask DeliverAsync(IVoiceSessionEventHandler handler, VoiceSessionEvent sessionEvent, CancellationToken token)
    {
        try
        {
            await handler.OnEventAsync(sessionEvent, token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
        }
        catch (Exception ex)
        {
            Log.HandlerFailed(_logger, _sessionId, handler.GetType().Name, sessionEvent.GetType().Name, ex);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(1901, LogLevel.Warning, "Voice session {SessionId}: session event handler {Handler} failed on {EventType}.", EventName = "SessionEventHandlerFailed")]
        public static partial void HandlerFailed(ILogger logger, string sessionId, string handler, string eventType, Exception exception);

        [LoggerMessage(1902, LogLevel.Warning, "Voice session {SessionId}: the session event queue is full (the handlers are slower than the session); {EventType} and later events are dropped until it drains.", EventName = "SessionEventQueueFull")]
        public static partial void QueueFull(ILogger logger, string sessionId, string eventType);

        [LoggerMessage(1903, LogLevel.Warning, "Voice session {SessionId}: {Dropped} session events were dropped, {LeftAtEnd} of them still queued when the delivery time after the session's end ran out.", EventName = "SessionEventsDropped")]
        public static partial void Dropped(ILogger logger, string sessionId, int dropped, int leftAtEnd);
    }
}
