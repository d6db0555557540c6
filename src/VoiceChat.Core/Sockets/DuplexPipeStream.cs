using System.Buffers;
using System.IO.Pipelines;
using System.Runtime.CompilerServices;

namespace VoiceChat.Sockets;

/// <summary>A <see cref="LoopConnection"/> as a <see cref="Stream"/>, for HTTP clients and TLS over it.</summary>
internal sealed class DuplexPipeStream(LoopConnection connection) : Stream
{
    private int _disposed;

    public override bool CanRead => true;

    public override bool CanWrite => true;

    public override bool CanSeek => false;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        // Data already received needs no state machine.
        return connection.Input.TryRead(out var result) ? new ValueTask<int>(Consume(result, buffer.Span)) : ReadSlowAsync(buffer, cancellationToken);
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        var result = await connection.Output.WriteAsync(buffer, cancellationToken).ConfigureAwait(false);
        if (result.IsCompleted)
        {
            throw new IOException("The connection is closed: nothing more can be sent.");
        }
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override void Write(byte[] buffer, int offset, int count) => WriteAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    public override void Flush()
    {
        // Every write is sent at once.
    }

    public override Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            await connection.DisposeAsync().ConfigureAwait(false);
        }

        await base.DisposeAsync().ConfigureAwait(false);
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing && Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            // Stream.Dispose is synchronous; the close itself finishes on the loop.
            connection.Abort(null);
            _ = connection.DisposeAsync().AsTask();
        }

        base.Dispose(disposing);
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<int> ReadSlowAsync(Memory<byte> buffer, CancellationToken cancellationToken)
    {
        var result = await connection.Input.ReadAsync(cancellationToken).ConfigureAwait(false);
        return Consume(result, buffer.Span);
    }

    // A zero-byte read waits for data without taking any, as sockets do.
    private int Consume(ReadResult result, Span<byte> destination)
    {
        var source = result.Buffer;
        if (result.IsCanceled)
        {
            connection.Input.AdvanceTo(source.Start);
            throw new OperationCanceledException();
        }

        var length = (int)Math.Min(source.Length, destination.Length);
        source.Slice(0, length).CopyTo(destination);
        var consumed = source.GetPosition(length);
        connection.Input.AdvanceTo(consumed, length == 0 && !source.IsEmpty ? source.Start : consumed);
        return length;
    }
}
