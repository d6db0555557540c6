using VoiceChat.Live;

namespace VoiceChat.Tests.Live;

public sealed class AudioReplayBufferTests
{
    private static byte[] Drain(AudioReplayBuffer buffer, int chunk)
    {
        var output = new List<byte>();
        while (buffer.Count > 0)
        {
            var next = buffer.Peek(chunk);
            output.AddRange(next.ToArray());
            buffer.Consume(next.Length);
        }

        return [.. output];
    }

    [Fact]
    public void Keeps_audio_in_order_across_the_ring_end()
    {
        using var buffer = new AudioReplayBuffer(10);
        buffer.Write([1, 2, 3, 4, 5, 6]);
        buffer.Consume(4);
        buffer.Write([7, 8, 9, 10, 11, 12]);

        Drain(buffer, 3).Should().Equal(5, 6, 7, 8, 9, 10, 11, 12);
        buffer.TakeDroppedBytes().Should().Be(0);
    }

    [Fact]
    public void Drops_the_oldest_audio_when_full()
    {
        using var buffer = new AudioReplayBuffer(8);
        buffer.Write([1, 2, 3, 4, 5, 6]);
        buffer.Write([7, 8, 9, 10]);

        buffer.TakeDroppedBytes().Should().Be(2);
        Drain(buffer, 100).Should().Equal(3, 4, 5, 6, 7, 8, 9, 10);
    }

    [Fact]
    public void A_write_larger_than_the_buffer_keeps_its_newest_part()
    {
        using var buffer = new AudioReplayBuffer(4);
        buffer.Write([1, 2]);
        buffer.Write([3, 4, 5, 6, 7, 8]);

        buffer.TakeDroppedBytes().Should().Be(4);
        Drain(buffer, 100).Should().Equal(5, 6, 7, 8);
    }

    [Fact]
    public void Releases_its_memory_when_empty()
    {
        using var buffer = new AudioReplayBuffer(4);
        buffer.Write([1, 2]);
        buffer.Consume(2);
        buffer.ReleaseIfEmpty();
        buffer.Peek(10).Length.Should().Be(0);
        buffer.Write([3, 4]);
        Drain(buffer, 10).Should().Equal(3, 4);
    }
}
