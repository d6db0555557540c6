using System.Buffers;
using System.Diagnostics.Tracing;

namespace VoiceChat.Tests.Buffers;

/// <summary>
/// Counts the rents and returns of one <see cref="ArrayPool{T}"/> made on the thread that created
/// this, from the runtime's own pool events (<c>System.Buffers.ArrayPoolEventSource</c>): listeners are
/// called on the thread that rents or returns, so other tests running at the same time do not count.
/// </summary>
internal sealed class PoolBalance : EventListener
{
    private const int BufferRented = 1;
    private const int BufferReturned = 3;

    private readonly int _poolId;
    private readonly int _threadId;
    private int _rented;
    private int _returned;

    public PoolBalance(ArrayPool<byte> pool)
    {
        _poolId = pool.GetHashCode();
        _threadId = Environment.CurrentManagedThreadId;
    }

    public int Rented => Volatile.Read(ref _rented);

    /// <summary>Rents not matched by a return.</summary>
    public int Outstanding => Volatile.Read(ref _rented) - Volatile.Read(ref _returned);

    protected override void OnEventSourceCreated(EventSource eventSource)
    {
        // Called from the base constructor too, before the fields above are set.
        if (eventSource.Name == "System.Buffers.ArrayPoolEventSource")
        {
            EnableEvents(eventSource, EventLevel.Verbose);
        }
    }

    protected override void OnEventWritten(EventWrittenEventArgs eventData)
    {
        if (_threadId != Environment.CurrentManagedThreadId || eventData.Payload is not { Count: >= 3 } payload || payload[2] is not int poolId || poolId != _poolId)
        {
            return;
        }

        if (eventData.EventId == BufferRented)
        {
            Interlocked.Increment(ref _rented);
        }
        else if (eventData.EventId == BufferReturned)
        {
            Interlocked.Increment(ref _returned);
        }
    }
}
