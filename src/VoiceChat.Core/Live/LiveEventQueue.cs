using System.Runtime.CompilerServices;
using System.Threading.Tasks.Sources;

namespace VoiceChat.Live;

/// <summary>
/// The events a connection has received and its one reader has not taken yet, up to a capacity.
/// Every wait of the reader reuses one waiter, cancellable or not, so a relayed audio event allocates
/// nothing; a bounded <c>Channel</c> allocates a waiter for every read with a cancellable token.
/// </summary>
/// <remarks>
/// A waiting reader continues on the writer's thread: one hop less per model event. Safe because
/// every reader is asynchronous and gives the thread back at its first incomplete await. A cancelled
/// wait continues on the thread pool instead, so that no reader runs inside someone's
/// <see cref="CancellationTokenSource.Cancel()"/>.
/// </remarks>
internal sealed class LiveEventQueue : IValueTaskSource<bool>
{
    private readonly Lock _gate = new();
    private readonly Queue<LiveEvent> _items;
    private readonly int _capacity;
    private ManualResetValueTaskSourceCore<bool> _readable;
    private CancellationTokenRegistration _readCancellation;
    private bool _readerWaiting;
    private TaskCompletionSource? _room;
    private bool _completed;

    public LiveEventQueue(int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        _capacity = capacity;
        _items = new Queue<LiveEvent>(capacity);
    }

    /// <summary>Adds an event, unless the queue is full or complete.</summary>
    public bool TryWrite(LiveEvent e)
    {
        lock (_gate)
        {
            if (_completed || _items.Count >= _capacity)
            {
                return false;
            }

            _items.Enqueue(e);
            if (!_readerWaiting)
            {
                return true;
            }

            _readerWaiting = false;
        }

        _readable.SetResult(true);
        return true;
    }

    /// <summary>
    /// Adds an event, waiting for room while the queue is full. False when the queue is (or becomes)
    /// complete: the event was not taken, and an audio event's buffer is still the caller's.
    /// </summary>
    public ValueTask<bool> WriteAsync(LiveEvent e, CancellationToken cancellationToken) =>
        TryWrite(e) ? new ValueTask<bool>(true) : WriteWhenRoomAsync(e, cancellationToken);

    private async ValueTask<bool> WriteWhenRoomAsync(LiveEvent e, CancellationToken cancellationToken)
    {
        while (true)
        {
            Task room;
            lock (_gate)
            {
                if (_completed)
                {
                    return false;
                }

                if (_items.Count >= _capacity)
                {
                    // Back-pressure only (the reader is 64 events behind), so this may allocate.
                    _room ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                    room = _room.Task;
                }
                else
                {
                    room = Task.CompletedTask;
                }
            }

            await room.WaitAsync(cancellationToken).ConfigureAwait(false);
            if (TryWrite(e))
            {
                return true;
            }
        }
    }

    /// <summary>Takes the next event if there is one.</summary>
    public bool TryRead(out LiveEvent e)
    {
        TaskCompletionSource? room;
        lock (_gate)
        {
            if (!_items.TryDequeue(out e))
            {
                return false;
            }

            room = _room;
            _room = null;
        }

        room?.TrySetResult();
        return true;
    }

    /// <summary>
    /// The next event; once the queue is complete and empty, an event of kind
    /// <see cref="LiveEventKind.Closed"/>. Only one read may be pending at a time.
    /// </summary>
    public ValueTask<LiveEvent> ReadAsync(CancellationToken cancellationToken) =>
        TryRead(out var e) ? new ValueTask<LiveEvent>(e) : ReadSlowAsync(cancellationToken);

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<LiveEvent> ReadSlowAsync(CancellationToken cancellationToken)
    {
        while (await WaitToReadAsync(cancellationToken).ConfigureAwait(false))
        {
            if (TryRead(out var e))
            {
                return e;
            }
        }

        return LiveEvent.ForClosed(null);
    }

    private ValueTask<bool> WaitToReadAsync(CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            if (_items.Count > 0)
            {
                return new ValueTask<bool>(true);
            }

            if (_completed)
            {
                return new ValueTask<bool>(false);
            }

            if (cancellationToken.IsCancellationRequested)
            {
                return ValueTask.FromCanceled<bool>(cancellationToken);
            }

            if (_readerWaiting)
            {
                throw new InvalidOperationException("Only one read of a live connection may be pending at a time.");
            }

            _readable.Reset();
            _readable.RunContinuationsAsynchronously = false;
            _readerWaiting = true;
        }

        if (cancellationToken.CanBeCanceled)
        {
            // A token source keeps its registrations' nodes for reuse, so this allocates nothing once warm.
            _readCancellation = cancellationToken.UnsafeRegister(
                static (state, token) => ((LiveEventQueue)state!).CancelWait(token), this);
        }

        return new ValueTask<bool>(this, _readable.Version);
    }

    private void CancelWait(CancellationToken token)
    {
        lock (_gate)
        {
            if (!_readerWaiting)
            {
                return;
            }

            _readerWaiting = false;
            _readable.RunContinuationsAsynchronously = true;
        }

        _readable.SetException(new OperationCanceledException(token));
    }

    /// <summary>
    /// No more events will be written: a waiting reader gets what is left and then
    /// <see cref="LiveEventKind.Closed"/>, a waiting writer gets false.
    /// </summary>
    public void Complete()
    {
        TaskCompletionSource? room;
        bool wakeReader;
        lock (_gate)
        {
            if (_completed)
            {
                return;
            }

            _completed = true;
            wakeReader = _readerWaiting;
            _readerWaiting = false;
            room = _room;
            _room = null;
        }

        room?.TrySetResult();
        if (wakeReader)
        {
            _readable.SetResult(false);
        }
    }

    /// <summary>Completes the queue and hands the buffers of audio nobody will read back to the pool.</summary>
    public void CompleteAndReturnPending()
    {
        Complete();
        while (TryRead(out var pending))
        {
            pending.ReturnAudio();
        }
    }

    bool IValueTaskSource<bool>.GetResult(short token)
    {
        _readCancellation.Dispose();
        _readCancellation = default;
        return _readable.GetResult(token);
    }

    ValueTaskSourceStatus IValueTaskSource<bool>.GetStatus(short token) => _readable.GetStatus(token);

    void IValueTaskSource<bool>.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _readable.OnCompleted(continuation, state, token, flags);
}
