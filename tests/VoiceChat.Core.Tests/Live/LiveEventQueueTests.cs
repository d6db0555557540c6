using VoiceChat.Live;

namespace VoiceChat.Tests.Live;

public sealed class LiveEventQueueTests
{
    private static LiveEvent Text(int n) => LiveEvent.ForOutputTranscript(n.ToString(System.Globalization.CultureInfo.InvariantCulture), final: false);

    [Fact]
    public async Task Events_come_out_in_the_order_they_went_in()
    {
        var queue = new LiveEventQueue(8);
        for (var i = 0; i < 5; i++)
        {
            queue.TryWrite(Text(i)).Should().BeTrue();
        }

        for (var i = 0; i < 5; i++)
        {
            (await queue.ReadAsync(CancellationToken.None)).Text.Should().Be(i.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }
    }

    [Fact]
    public async Task A_waiting_reader_gets_the_next_event()
    {
        var queue = new LiveEventQueue(8);
        using var session = new CancellationTokenSource();
        var read = queue.ReadAsync(session.Token);
        read.IsCompleted.Should().BeFalse();

        queue.TryWrite(Text(7)).Should().BeTrue();

        (await read).Text.Should().Be("7");
    }

    [Fact]
    public async Task A_waiting_reader_continues_on_the_writers_thread()
    {
        var queue = new LiveEventQueue(8);
        using var session = new CancellationTokenSource();
        var readerThread = 0;
        var reader = ReadThenNoteThreadAsync();

        var writerThread = 0;
        var writer = new Thread(() =>
        {
            writerThread = Environment.CurrentManagedThreadId;
            queue.TryWrite(Text(1));
        });
        writer.Start();
        writer.Join();
        await reader;

        readerThread.Should().Be(writerThread);

        async Task ReadThenNoteThreadAsync()
        {
            await queue.ReadAsync(session.Token).ConfigureAwait(false);
            readerThread = Environment.CurrentManagedThreadId;
        }
    }

    [Fact]
    public async Task A_cancelled_wait_does_not_continue_inside_Cancel()
    {
        var queue = new LiveEventQueue(8);
        using var cut = new CancellationTokenSource();
        var cancelling = true;
        var ranInsideCancel = (bool?)null;
        var reader = ReadAsync();

        cut.Cancel();
        cancelling = false;
        await reader;

        ranInsideCancel.Should().BeFalse();

        async Task ReadAsync()
        {
            try
            {
                await queue.ReadAsync(cut.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                ranInsideCancel = Volatile.Read(ref cancelling);
            }
        }
    }

    [Fact]
    public async Task A_full_queue_refuses_TryWrite_and_makes_WriteAsync_wait_for_room()
    {
        var queue = new LiveEventQueue(2);
        queue.TryWrite(Text(0)).Should().BeTrue();
        queue.TryWrite(Text(1)).Should().BeTrue();
        queue.TryWrite(Text(2)).Should().BeFalse();

        var write = queue.WriteAsync(Text(2), CancellationToken.None);
        write.IsCompleted.Should().BeFalse();

        (await queue.ReadAsync(CancellationToken.None)).Text.Should().Be("0");
        (await write).Should().BeTrue();
        (await queue.ReadAsync(CancellationToken.None)).Text.Should().Be("1");
        (await queue.ReadAsync(CancellationToken.None)).Text.Should().Be("2");
    }

    [Fact]
    public async Task Cancelling_a_wait_cancels_only_that_wait()
    {
        var queue = new LiveEventQueue(8);
        using var cut = new CancellationTokenSource();
        var read = queue.ReadAsync(cut.Token);
        await cut.CancelAsync();

        var cancelled = async () => await read;
        await cancelled.Should().ThrowAsync<OperationCanceledException>();

        // The queue still works, for a new wait with another token.
        using var session = new CancellationTokenSource();
        var next = queue.ReadAsync(session.Token);
        queue.TryWrite(Text(3)).Should().BeTrue();
        (await next).Text.Should().Be("3");
    }

    [Fact]
    public async Task A_token_cancelled_before_the_read_throws_at_once_unless_an_event_is_there()
    {
        var queue = new LiveEventQueue(8);
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();

        var read = async () => await queue.ReadAsync(cancelled.Token);
        await read.Should().ThrowAsync<OperationCanceledException>();

        queue.TryWrite(Text(4));
        (await queue.ReadAsync(cancelled.Token)).Text.Should().Be("4");
    }

    [Fact]
    public async Task A_cancelled_writer_leaves_its_event_with_the_caller()
    {
        var queue = new LiveEventQueue(1);
        queue.TryWrite(Text(0));
        using var stop = new CancellationTokenSource();
        var write = queue.WriteAsync(Text(1), stop.Token);
        await stop.CancelAsync();

        var cancelled = async () => await write;
        await cancelled.Should().ThrowAsync<OperationCanceledException>();
        (await queue.ReadAsync(CancellationToken.None)).Text.Should().Be("0");
        queue.TryRead(out _).Should().BeFalse();
    }

    [Fact]
    public async Task Completing_drains_what_is_left_then_reads_closed_and_refuses_writes()
    {
        var queue = new LiveEventQueue(2);
        queue.TryWrite(Text(0));
        queue.TryWrite(Text(1));
        var blockedWrite = queue.WriteAsync(Text(2), CancellationToken.None);

        queue.Complete();

        (await blockedWrite).Should().BeFalse();
        queue.TryWrite(Text(3)).Should().BeFalse();
        (await queue.ReadAsync(CancellationToken.None)).Text.Should().Be("0");
        (await queue.ReadAsync(CancellationToken.None)).Text.Should().Be("1");
        (await queue.ReadAsync(CancellationToken.None)).Kind.Should().Be(LiveEventKind.Closed);
        (await queue.ReadAsync(CancellationToken.None)).Kind.Should().Be(LiveEventKind.Closed);
    }

    [Fact]
    public async Task Completing_wakes_a_waiting_reader_with_closed()
    {
        var queue = new LiveEventQueue(2);
        using var session = new CancellationTokenSource();
        var read = queue.ReadAsync(session.Token);

        queue.Complete();

        (await read).Kind.Should().Be(LiveEventKind.Closed);
    }

    [Fact]
    public void Completing_and_returning_pending_hands_audio_back_to_the_pool()
    {
        var queue = new LiveEventQueue(4);
        var audio = PooledAudio.CopyOf(new byte[] { 1, 2, 3 });
        queue.TryWrite(LiveEvent.ForAudio(audio));
        queue.TryWrite(Text(1));

        queue.CompleteAndReturnPending();

        queue.TryRead(out _).Should().BeFalse();
        // The pool hands the same array out again: it was returned, not dropped.
        var again = PooledAudio.Pool.Rent(3);
        again.Should().BeSameAs(audio.Array);
        PooledAudio.Pool.Return(again);
    }

    [Fact]
    public async Task A_second_pending_read_is_refused()
    {
        var queue = new LiveEventQueue(2);
        using var session = new CancellationTokenSource();
        var first = queue.ReadAsync(session.Token);

        var second = async () => await queue.ReadAsync(session.Token);
        await second.Should().ThrowAsync<InvalidOperationException>();

        queue.TryWrite(Text(5));
        (await first).Text.Should().Be("5");
    }

    [AllocationFact]
    [Trait("Category", "Allocations")]
    public async Task Waiting_with_a_cancellable_token_allocates_nothing_once_warm()
    {
        var queue = new LiveEventQueue(8);
        using var session = new CancellationTokenSource();
        const int Warmup = 1_000, Rounds = 10_000;

        // Each round: the reader waits (with the session's token), the writer wakes it; all on this thread.
        async Task RoundsAsync(int count)
        {
            for (var i = 0; i < count; i++)
            {
                var read = queue.ReadAsync(session.Token);
                queue.TryWrite(LiveEvent.TurnComplete);
                await read;
            }
        }

        await RoundsAsync(Warmup);
        var before = GC.GetAllocatedBytesForCurrentThread();
        await RoundsAsync(Rounds);
        var perRound = (GC.GetAllocatedBytesForCurrentThread() - before) / (double)Rounds;

        perRound.Should().BeLessThan(1, "a relayed event must not allocate a waiter");
    }
}
