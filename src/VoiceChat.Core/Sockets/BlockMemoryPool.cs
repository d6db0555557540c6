using System.Buffers;
using System.Collections.Concurrent;

namespace VoiceChat.Sockets;

/// <summary>
/// Pinned 4 KiB blocks for the socket loop's pipes, kept for reuse: a pipe rents one per read and
/// returns it once the reader has consumed it, so steady streaming allocates nothing.
/// </summary>
internal sealed class BlockMemoryPool : MemoryPool<byte>
{
    public const int BlockSize = 4096;

    private readonly ConcurrentQueue<Block> _blocks = new();

    public override int MaxBufferSize => BlockSize;

    public override IMemoryOwner<byte> Rent(int minBufferSize = -1)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(minBufferSize, BlockSize);
        return _blocks.TryDequeue(out var block) ? block : new Block(this);
    }

    protected override void Dispose(bool disposing)
    {
        _blocks.Clear();
    }

    private sealed class Block(BlockMemoryPool pool) : IMemoryOwner<byte>
    {
        public Memory<byte> Memory { get; } = GC.AllocateUninitializedArray<byte>(BlockSize, pinned: true);

        public void Dispose() => pool._blocks.Enqueue(this);
    }
}
