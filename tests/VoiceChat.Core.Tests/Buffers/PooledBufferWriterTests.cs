using System.Text;
using VoiceChat.Buffers;

namespace VoiceChat.Tests.Buffers;

public sealed class PooledBufferWriterTests
{
    [Fact]
    public void Writes_again_after_the_buffer_is_released()
    {
        using var writer = new PooledBufferWriter(64);

        writer.WrittenCount.Should().Be(0);
        writer.WrittenMemory.Length.Should().Be(0);

        Write(writer, "hello");
        writer.WrittenSpan.ToArray().Should().Equal(Encoding.UTF8.GetBytes("hello"));

        writer.Release();
        writer.WrittenCount.Should().Be(0);
        writer.GetMemory(0).Length.Should().BeGreaterThanOrEqualTo(64, "a write after a release rents the initial capacity again");
    }

    [Fact]
    public void Growing_keeps_what_was_written()
    {
        using var writer = new PooledBufferWriter(16);
        var text = new string('x', 10) + new string('y', 5000);

        foreach (var chunk in text.Chunk(7))
        {
            Write(writer, new string(chunk));
        }

        Encoding.UTF8.GetString(writer.WrittenSpan).Should().Be(text);
    }

    [Fact]
    public void Clear_restarts_in_the_same_buffer()
    {
        using var writer = new PooledBufferWriter(64);
        Write(writer, "first");
        writer.Clear();
        Write(writer, "second");

        Encoding.UTF8.GetString(writer.WrittenSpan).Should().Be("second");
    }

    [Fact]
    public void Advancing_past_the_buffer_is_refused()
    {
        using var writer = new PooledBufferWriter(16);
        var length = writer.GetSpan(16).Length;

        var act = () => writer.Advance(length + 1);

        act.Should().Throw<InvalidOperationException>();
    }

    private static void Write(PooledBufferWriter writer, string text)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        bytes.CopyTo(writer.GetSpan(bytes.Length));
        writer.Advance(bytes.Length);
    }
}
