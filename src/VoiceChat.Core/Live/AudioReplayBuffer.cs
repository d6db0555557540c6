using System.Buffers;

namespace VoiceChat.Live;

/// <summary>
/// Microphone audio kept while the upstream connection is being replaced: a bounded ring of bytes.
/// When full, the oldest audio is dropped (whole samples). The memory is rented on first use and
/// returned once the audio has been replayed.
/// </summary>
internal sealed class AudioReplayBuffer(int capacityBytes) : IDisposable
{
    private readonly int _capacity = Math.Max(capacityBytes & ~1, 2);
    private byte[]? _ring;
    private int _start;

    public int Count { get; private set; }

    /// <summary>Bytes dropped since the last <see cref="TakeDroppedBytes"/>.</summary>
    private long _dropped;

    public void Write(ReadOnlySpan<byte> audio)
    {
        _ring ??= ArrayPool<byte>.Shared.Rent(_capacity);
        if (audio.Length >= _capacity)
        {
            _dropped += Count + (audio.Length - _capacity);
            audio = audio[^_capacity..];
            audio.CopyTo(_ring);
            _start = 0;
            Count = _capacity;
            return;
        }

        var overflow = Count + audio.Length - _capacity;
        if (overflow > 0)
        {
            _dropped += overflow;
            _start = (_start + overflow) % _capacity;
            Count -= overflow;
        }

        var end = (_start + Count) % _capacity;
        var first = Math.Min(audio.Length, _capacity - end);
        audio[..first].CopyTo(_ring.AsSpan(end));
        audio[first..].CopyTo(_ring);
        Count += audio.Length;
    }

    /// <summary>The oldest <paramref name="maxBytes"/> (or fewer) bytes, without removing them.</summary>
    public ReadOnlyMemory<byte> Peek(int maxBytes)
    {
        if (_ring is null || Count == 0)
        {
            return ReadOnlyMemory<byte>.Empty;
        }

        var length = Math.Min(Math.Min(maxBytes, Count), _capacity - _start);
        return _ring.AsMemory(_start, length);
    }

    public void Consume(int bytes)
    {
        bytes = Math.Min(bytes, Count);
        _start = (_start + bytes) % _capacity;
        Count -= bytes;
        if (Count == 0)
        {
            _start = 0;
        }
    }

    public long TakeDroppedBytes()
    {
        var dropped = _dropped;
        _dropped = 0;
        return dropped;
    }

    /// <summary>Returns the memory once empty (the next outage rents again).</summary>
    public void ReleaseIfEmpty()
    {
        if (Count == 0 && _ring is not null)
        {
            ArrayPool<byte>.Shared.Return(_ring);
            _ring = null;
            _start = 0;
        }
    }

    public void Dispose()
    {
        Count = 0;
        ReleaseIfEmpty();
    }
}
