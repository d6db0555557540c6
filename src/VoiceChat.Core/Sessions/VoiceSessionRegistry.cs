using System.Collections.Concurrent;
using Microsoft.Extensions.Options;
using VoiceChat.Sessions.Resume;

namespace VoiceChat.Sessions;

/// <summary>
/// The live sessions of this process: enforces <see cref="VoiceChatOptions.MaxConcurrentSessions"/>
/// and drains every session on shutdown.
/// </summary>
internal sealed class VoiceSessionRegistry
{
    private readonly ConcurrentDictionary<VoiceSession, byte> _sessions = new();
    private readonly IOptionsMonitor<VoiceChatOptions> _options;
    private readonly VoiceConversationDirectory _conversations;
    private readonly TimeProvider _time;
    private readonly TaskCompletionSource _drained = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _count;
    private volatile bool _draining;

    public VoiceSessionRegistry(IOptionsMonitor<VoiceChatOptions> options, VoiceConversationDirectory conversations, TimeProvider time)
    {
        _options = options;
        _conversations = conversations;
        _time = time;
    }

    /// <summary>Set once shutdown began: readiness fails and new connections are refused.</summary>
    public bool IsDraining => _draining;

    public int Count => Volatile.Read(ref _count);

    /// <summary>Counts a new connection in; false when the process is full or draining.</summary>
    public bool TryAdd(VoiceSession session)
    {
        if (_draining)
        {
            return false;
        }

        if (Interlocked.Increment(ref _count) > _options.CurrentValue.MaxConcurrentSessions)
        {
            Interlocked.Decrement(ref _count);
            return false;
        }

        _sessions[session] = 0;
        if (_draining)
        {
            session.GoAway(); // Drain began while it was being added.
        }

        return true;
    }

    public void Remove(VoiceSession session)
    {
        if (_sessions.TryRemove(session, out _) && Interlocked.Decrement(ref _count) == 0 && _draining)
        {
            _drained.TrySetResult();
        }
    }

    /// <summary>
    /// Tells every session to go away (<c>going_away</c>, close 1001) and waits until all have
    /// ended, at most the close timeout and a second: sessions abort a client that does not
    /// answer within the close timeout themselves. Conversations write their resume state to the
    /// shared store before their client hears <c>going_away</c>; those without a client end.
    /// </summary>
    public async Task DrainAsync(CancellationToken cancellationToken)
    {
        _draining = true;
        var conversations = _conversations.DrainAsync();
        foreach (var session in _sessions.Keys)
        {
            if (!session.HasConversation)
            {
                session.GoAway(); // not started: nothing to keep
            }
        }

        await conversations.WaitAsync(_options.CurrentValue.CloseTimeout + TimeSpan.FromSeconds(1), _time, cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);

        if (Count == 0)
        {
            return;
        }

        try
        {
            await _drained.Task.WaitAsync(_options.CurrentValue.CloseTimeout + TimeSpan.FromSeconds(1), _time, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            // Whatever is left is aborted when the host stops.
        }
    }
}
