using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using VoiceChat.Diagnostics;

namespace VoiceChat.Sessions.Events;

/// <summary>
/// The app's event handlers and the queue settings: opens one <see cref="SessionEventQueue"/> per
/// conversation, or none when no handler is registered (sessions then build no event at all).
/// </summary>
internal sealed class SessionEventHub
{
    private readonly IVoiceSessionEventHandler[] _handlers;
    private readonly IOptions<VoiceChatOptions> _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<Task, byte> _closing = new();
    private long _dropped;

    public SessionEventHub(IEnumerable<IVoiceSessionEventHandler> handlers, IOptions<VoiceChatOptions> options, TimeProvider time, ILoggerFactory loggers)
    {
        _handlers = [.. handlers];
        _options = options;
        _time = time;
        _logger = loggers.CreateLogger("VoiceChat.Sessions.Events");
    }

    /// <summary>Events of this process's sessions that were dropped: the queue was full, or its delivery time ran out.</summary>
    public long Dropped => Interlocked.Read(ref _dropped);

    /// <summary>A queue for one conversation's events, draining in the background; null without handlers.</summary>
    public SessionEventQueue? Open(string sessionId)
    {
        if (_handlers.Length == 0)
        {
            return null;
        }

        var options = _options.Value.Events;
        return new SessionEventQueue(sessionId, _handlers, options.QueueCapacity, options.DrainTimeout, this, _time, _logger);
    }

    /// <summary>
    /// Delivers what <paramref name="queue"/> holds in the background (within its drain timeout), so
    /// the session's end waits for no handler; <see cref="WhenClosedAsync"/> waits for it at shutdown.
    /// </summary>
    public void Close(SessionEventQueue queue)
    {
        var closing = queue.CompleteAsync();
        if (!closing.IsCompleted)
        {
            _closing.TryAdd(closing, 0);
            _ = ForgetWhenDoneAsync(closing);
        }
    }

    /// <summary>Waits for the queues of ended sessions to be delivered (each within its drain timeout).</summary>
    public Task WhenClosedAsync(CancellationToken cancellationToken) => Task.WhenAll(_closing.Keys).WaitAsync(cancellationToken);

    private async Task ForgetWhenDoneAsync(Task closing)
    {
        await closing.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _closing.TryRemove(closing, out _);
    }

    /// <summary>Counts dropped events here and for the metrics (<see cref="SessionEventCounters"/>).</summary>
    internal void OnDropped(int count)
    {
        Interlocked.Add(ref _dropped, count);
        SessionEventCounters.SessionEventsDropped(count);
    }
}

/// <summary>
/// Process-wide counts of session events, for the metrics layer to read (an observable counter over
/// <see cref="TotalDropped"/>, or a counter added to in <see cref="SessionEventsDropped"/>).
/// </summary>
internal static class SessionEventCounters
{
    private static long s_dropped;

    /// <summary>Events dropped since the process started, all sessions together.</summary>
    public static long TotalDropped => Interlocked.Read(ref s_dropped);

    /// <summary>Called for every drop: a full queue, or events left when a session's delivery time ran out.</summary>
    public static void SessionEventsDropped(int count)
    {
        Interlocked.Add(ref s_dropped, count);
        VoiceChatTelemetry.SessionEventsWereDropped(count);
    }
}
