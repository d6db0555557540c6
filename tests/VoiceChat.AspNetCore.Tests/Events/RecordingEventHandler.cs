using System.Collections.Concurrent;

namespace VoiceChat.Tests.Events;

/// <summary>Keeps every session event it is given; <see cref="WaitForEndAsync"/> waits for a session's <see cref="VoiceSessionEnded"/>.</summary>
internal class RecordingEventHandler : IVoiceSessionEventHandler
{
    private readonly ConcurrentQueue<VoiceSessionEvent> _events = new();
    private readonly TaskCompletionSource _ended = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public IReadOnlyList<VoiceSessionEvent> Events => [.. _events];

    public virtual ValueTask OnEventAsync(VoiceSessionEvent sessionEvent, CancellationToken cancellationToken)
    {
        _events.Enqueue(sessionEvent);
        if (sessionEvent is VoiceSessionEnded)
        {
            _ended.TrySetResult();
        }

        return ValueTask.CompletedTask;
    }

    public Task WaitForEndAsync() => _ended.Task.WaitAsync(TimeSpan.FromSeconds(30));
}

/// <summary>Records each event, then throws.</summary>
internal sealed class ThrowingEventHandler : RecordingEventHandler
{
    public override async ValueTask OnEventAsync(VoiceSessionEvent sessionEvent, CancellationToken cancellationToken)
    {
        await base.OnEventAsync(sessionEvent, cancellationToken);
        throw new InvalidOperationException("The app's handler failed on purpose.");
    }
}

/// <summary>Blocks on the first event until its token is cancelled (the drain timeout after the session's end).</summary>
internal sealed class BlockingEventHandler : IVoiceSessionEventHandler
{
    private readonly TaskCompletionSource _released = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public Task Released => _released.Task;

    public async ValueTask OnEventAsync(VoiceSessionEvent sessionEvent, CancellationToken cancellationToken)
    {
        try
        {
            await Task.Delay(Timeout.Infinite, cancellationToken);
        }
        finally
        {
            _released.TrySetResult();
        }
    }
}

/// <summary>Takes a while over each event, then records it.</summary>
internal sealed class SlowEventHandler : RecordingEventHandler
{
    public override async ValueTask OnEventAsync(VoiceSessionEvent sessionEvent, CancellationToken cancellationToken)
    {
        await Task.Delay(TimeSpan.FromMilliseconds(200), cancellationToken);
        await base.OnEventAsync(sessionEvent, cancellationToken);
    }
}
