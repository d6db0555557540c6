using System.Collections.Concurrent;
using System.Security.Cryptography;

namespace VoiceChat.Testing.Sessions.Resumption;

/// <summary>
/// What survives a connection: the conversation's turn count and history, found again through the
/// resumption handles the emulator issued.
/// </summary>
internal sealed class ConversationState
{
    private const int MaxHistory = 200;
    private readonly List<string> _history = [];

    public ConversationState(string id) => Id = id;

    public string Id { get; }

    public Lock Gate { get; } = new();

    /// <summary>Model turns started in this conversation, across connections.</summary>
    public int Turns { get; set; }

    /// <summary>The connection that currently owns the conversation; guarded by <see cref="Gate"/>.</summary>
    public EmulatorSession? Owner { get; set; }

    public long LastUsedTimestamp { get; set; }

    /// <summary>Counts a model turn; returns its number in the conversation.</summary>
    public int StartTurn()
    {
        lock (Gate)
        {
            return ++Turns;
        }
    }

    public void AddHistory(string entry)
    {
        lock (Gate)
        {
            if (_history.Count == MaxHistory)
            {
                _history.RemoveAt(0);
            }

            _history.Add(entry);
        }
    }

    public IReadOnlyList<string> History
    {
        get
        {
            lock (Gate)
            {
                return [.. _history];
            }
        }
    }
}

internal enum ResumeResult
{
    Resumed,
    NotFound,
    StillOpen,
}

/// <summary>All conversations of one emulator, by resumption handle. Expired handles are swept as new ones are issued.</summary>
internal sealed class ConversationStore(TimeProvider timeProvider)
{
    private readonly ConcurrentDictionary<string, ConversationState> _byHandle = new(StringComparer.Ordinal);
    private int _nextId;

    public ConversationState Create(EmulatorSession owner)
    {
        var state = new ConversationState($"conversation-{Interlocked.Increment(ref _nextId)}")
        {
            Owner = owner,
            LastUsedTimestamp = timeProvider.GetTimestamp(),
        };
        return state;
    }

    public ResumeResult TryResume(string handle, EmulatorSession owner, TimeSpan lifetime, out ConversationState? state)
    {
        state = null;
        if (!_byHandle.TryGetValue(handle, out var found))
        {
            return ResumeResult.NotFound;
        }

        lock (found.Gate)
        {
            if (found.Owner is { IsOpen: true })
            {
                return ResumeResult.StillOpen;
            }

            if (timeProvider.GetElapsedTime(found.LastUsedTimestamp) > lifetime)
            {
                return ResumeResult.NotFound;
            }

            found.Owner = owner;
            found.LastUsedTimestamp = timeProvider.GetTimestamp();
        }

        state = found;
        return ResumeResult.Resumed;
    }

    public void Release(ConversationState state, EmulatorSession owner)
    {
        lock (state.Gate)
        {
            if (ReferenceEquals(state.Owner, owner))
            {
                state.Owner = null;
            }

            state.LastUsedTimestamp = timeProvider.GetTimestamp();
        }
    }

    public string IssueHandle(ConversationState state, TimeSpan lifetime)
    {
        // Google's handles are opaque base64 strings; a random one keeps tests honest about not parsing them.
        Span<byte> random = stackalloc byte[24];
        RandomNumberGenerator.Fill(random);
        var handle = Convert.ToBase64String(random).Replace('+', '-').Replace('/', '_');
        _byHandle[handle] = state;
        lock (state.Gate)
        {
            state.LastUsedTimestamp = timeProvider.GetTimestamp();
        }

        Sweep(lifetime);
        return handle;
    }

    private void Sweep(TimeSpan lifetime)
    {
        foreach (var (handle, state) in _byHandle)
        {
            bool expired;
            lock (state.Gate)
            {
                expired = state.Owner is null && timeProvider.GetElapsedTime(state.LastUsedTimestamp) > lifetime;
            }

            if (expired)
            {
                _byHandle.TryRemove(handle, out _);
            }
        }
    }
}
