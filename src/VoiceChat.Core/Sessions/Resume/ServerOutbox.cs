using VoiceChat.Live;

namespace VoiceChat.Sessions.Resume;

/// <summary>
/// The server messages of a resumable session, numbered from 1 in the order they were sent, kept
/// until the client acknowledges them so that a new connection can be given what the old one lost.
/// Bounded by bytes: past the bound the oldest messages are dropped, and a resume then starts its
/// replay later than the client asked (<c>replay_from</c>). Buffers come from
/// <see cref="PooledAudio.Pool"/>; model audio is kept in the buffer it arrived in, without a copy.
/// </summary>
/// <remarks>
/// Appends and replays run under the session's delivery gate (one at a time); acknowledgements
/// arrive from the client's receive loop at any time, so every operation takes the lock. An
/// acknowledgement never reaches past what was delivered to the current connection, so a buffer
/// is never returned while it is being sent.
/// </remarks>
internal sealed class ServerOutbox : IDisposable
{
    private readonly Lock _lock = new();
    private readonly Queue<Entry> _entries = new();
    private readonly int _maxBytes;
    private long _lastSequence;
    private long _delivered;
    private long _dropped;
    private int _bytes;

    /// <param name="maxBytes">The bound on bytes kept.</param>
    /// <param name="lastSequence">The number of the last message sent before (a conversation taken over from another instance).</param>
    public ServerOutbox(int maxBytes, long lastSequence = 0)
    {
        _maxBytes = maxBytes;
        _lastSequence = lastSequence;
        _delivered = lastSequence;
        _dropped = lastSequence;
    }

    /// <summary>The number of the last message appended (0 before the first).</summary>
    public long LastSequence
    {
        get
        {
            lock (_lock)
            {
                return _lastSequence;
            }
        }
    }

    /// <summary>Numbers the next message without keeping it (a client that does not acknowledge).</summary>
    public long Skip()
    {
        lock (_lock)
        {
            return ++_lastSequence;
        }
    }

    /// <summary>Numbers and keeps a message; the outbox owns <paramref name="message"/>'s buffer from now on.</summary>
    public long Append(PooledAudio message, bool binary)
    {
        lock (_lock)
        {
            var sequence = ++_lastSequence;
            _entries.Enqueue(new Entry(sequence, message, binary));
            _bytes += message.Length;
            while (_bytes > _maxBytes && _entries.Count > 1)
            {
                var oldest = _entries.Dequeue();
                _bytes -= oldest.Message.Length;
                _dropped = oldest.Sequence;
                oldest.Message.Return();
            }

            return sequence;
        }
    }

    /// <summary>Marks messages up to <paramref name="sequence"/> as sent on the current connection.</summary>
    public void MarkDelivered(long sequence)
    {
        lock (_lock)
        {
            if (sequence > _delivered)
            {
                _delivered = sequence;
            }
        }
    }

    /// <summary>
    /// Starts a new connection: nothing counts as delivered on it until it is sent again, so an
    /// acknowledgement on the new connection cannot free what the replay is about to send.
    /// </summary>
    public void ResetDelivered(long? clientReceived)
    {
        lock (_lock)
        {
            _delivered = Math.Min(clientReceived ?? 0, _lastSequence);
        }
    }

    /// <summary>The client has received every message up to <paramref name="received"/>: they are let go.</summary>
    public void Acknowledge(long received)
    {
        lock (_lock)
        {
            var upTo = Math.Min(received, _delivered);
            while (_entries.TryPeek(out var oldest) && oldest.Sequence <= upTo)
            {
                _entries.Dequeue();
                _bytes -= oldest.Message.Length;
                oldest.Message.Return();
            }
        }
    }

    /// <summary>
    /// The messages after <paramref name="clientReceived"/> that are still kept, in order, and the
    /// number of the first one the replay will send (later than <paramref name="clientReceived"/> + 1
    /// when messages in between were dropped). A client that does not count (null) gets every message
    /// still kept. The entries stay owned by the outbox.
    /// </summary>
    public long CollectReplay(long? clientReceived, List<(ReadOnlyMemory<byte> Message, bool Binary, long Sequence)> replay)
    {
        lock (_lock)
        {
            var from = clientReceived is { } received
                ? Math.Max(received, _dropped) + 1
                : _entries.TryPeek(out var oldest) ? oldest.Sequence : _lastSequence + 1;
            foreach (var entry in _entries)
            {
                if (entry.Sequence >= from)
                {
                    replay.Add((entry.Message.Memory, entry.Binary, entry.Sequence));
                }
            }

            return Math.Min(from, _lastSequence + 1);
        }
    }

    public void Dispose()
    {
        lock (_lock)
        {
            while (_entries.TryDequeue(out var entry))
            {
                entry.Message.Return();
            }

            _bytes = 0;
        }
    }

    private readonly record struct Entry(long Sequence, PooledAudio Message, bool Binary);
}
