using System.Collections.Concurrent;
using Microsoft.Extensions.Options;
using VoiceChat.Sessions.Resume;

namespace VoiceChat.Sessions;

/// <summary>
/// The connections of this process. A connection is pending until its session starts, counted
/// against <see cref="VoiceChatOptions.MaxPendingConnections"/>; a started session counts against
/// <see cref="VoiceChatOptions.MaxConcurrentSessions"/> and against its user's
/// <see cref="VoiceChatOptions.MaxSessionsPerUser"/>. Drains every connection on shutdown.
/// </summary>
internal sealed class VoiceSessionRegistry
{
    // The value is the started session's user, or null while the connection is pending.
    private readonly ConcurrentDictionary<VoiceSession, string?> _connections = new();
    private readonly Dictionary<string, int> _sessionsPerUser = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();
    private readonly IOptionsMonitor<VoiceChatOptions> _options;
    private readonly VoiceConversationDirectory _conversations;
    private readonly TimeProvider _time;
    private readonly TaskCompletionSource _drained = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _pending;
    private int _started;
    private int _connectionCount;
    private volatile bool _draining;

    public VoiceSessionRegistry(IOptionsMonitor<VoiceChatOptions> options, VoiceConversationDirectory conversations, TimeProvider time)
    {
        _options = options;
        _conversations = conversations;
        _time = time;
    }

    /// <summary>Set once shutdown began: readiness fails and new connections are refused.</summary>
    public bool IsDraining => _draining;

    /// <summary>Started sessions.</summary>
    public int Count => Volatile.Read(ref _started);

    /// <summary>Connections (reserved or accepted) that have not started a session.</summary>
    public int PendingCount => Volatile.Read(ref _pending);

    /// <summary>Reserves a place for a connection about to be accepted; false when too many are pending or the process drains.</summary>
    public bool TryReservePending()
    {
        if (_draining)
        {
            return false;
        }

        lock (_gate)
        {
            if (_pending >= _options.CurrentValue.MaxPendingConnections)
            {
                return false;
            }

            _pending++;
            Interlocked.Increment(ref _connectionCount);
            return true;
        }
    }

    /// <summary>Releases a reservation that never became a connection.</summary>
    public void CancelReservation()
    {
        lock (_gate)
        {
            _pending--;
        }

        ConnectionEnded();
    }

    /// <summary>Registers the accepted connection of a reservation, so that a drain reaches it.</summary>
    public void Add(VoiceSession session)
    {
        _connections[session] = null;
        if (_draining)
        {
            session.GoAway(); // Drain began while it was being added.
        }
    }

    /// <summary>Counts the session as started for <paramref name="userId"/>, unless the process or the user is at its limit.</summary>
    public VoiceSessionAdmission TryStart(VoiceSession session, string userId)
    {
        var options = _options.CurrentValue;
        lock (_gate)
        {
            if (_started >= options.MaxConcurrentSessions)
            {
                return VoiceSessionAdmission.ServerBusy;
            }

            _sessionsPerUser.TryGetValue(userId, out var userSessions);
            if (userSessions >= options.MaxSessionsPerUser)
            {
                return VoiceSessionAdmission.UserBusy;
            }

            _sessionsPerUser[userId] = userSessions + 1;
            _pending--;
            Volatile.Write(ref _started, _started + 1);
            _connections[session] = userId;
            return VoiceSessionAdmission.Started;
        }
    }

    public void Remove(VoiceSession session)
    {
        if (!_connections.TryRemove(session, out var userId))
        {
            return;
        }

        lock (_gate)
        {
            if (userId is null)
            {
                _pending--;
            }
            else
            {
                Volatile.Write(ref _started, _started - 1);
                if (_sessionsPerUser[userId] == 1)
                {
                    _sessionsPerUser.Remove(userId);
                }
                else
                {
                    _sessionsPerUser[userId]--;
                }
            }
        }

        ConnectionEnded();
    }

    /// <summary>
    /// Tells every connection to go away (<c>going_away</c>, close 1001) and waits until all have
    /// ended, at most the close timeout and a second: sessions abort a client that does not
    /// answer within the close timeout themselves. Conversations close their model connection and
    /// write their resume state to the shared store before their client hears <c>going_away</c>;
    /// those waiting for a client end.
    /// </summary>
    public async Task DrainAsync(CancellationToken cancellationToken)
    {
        _draining = true;
        var conversations = _conversations.DrainAsync();
        foreach (var session in _connections.Keys)
        {
            if (!session.HasConversation)
            {
                session.GoAway(); // not started: nothing to keep
            }
        }

        await conversations.WaitAsync(_options.CurrentValue.CloseTimeout + TimeSpan.FromSeconds(1), _time, cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);

        if (Volatile.Read(ref _connectionCount) == 0)
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

    private void ConnectionEnded()
    {
        if (Interlocked.Decrement(ref _connectionCount) == 0 && _draining)
        {
            _drained.TrySetResult();
        }
    }
}

/// <summary>The registry's answer to a session that wants to start.</summary>
internal enum VoiceSessionAdmission
{
    Started,

    /// <summary>The process runs <see cref="VoiceChatOptions.MaxConcurrentSessions"/>.</summary>
    ServerBusy,

    /// <summary>The user runs <see cref="VoiceChatOptions.MaxSessionsPerUser"/>.</summary>
    UserBusy,
}
