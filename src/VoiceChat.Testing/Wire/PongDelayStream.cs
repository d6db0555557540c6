using Microsoft.AspNetCore.Http.Features;

namespace VoiceChat.Testing.Wire;

/// <summary>
/// Swaps the upgraded stream for one that holds back pong frames, so a test can reproduce Google's
/// slow pongs. It must sit before the WebSockets middleware, which captures this feature.
/// </summary>
internal sealed class PongDelayUpgradeFeature(IHttpUpgradeFeature inner, TimeSpan delay, TimeProvider timeProvider) : IHttpUpgradeFeature
{
    public bool IsUpgradableRequest => inner.IsUpgradableRequest;

    public async Task<Stream> UpgradeAsync() => new PongDelayStream(await inner.UpgradeAsync().ConfigureAwait(false), delay, timeProvider);
}

/// <summary>
/// Passes everything through except server pong frames (first byte 0x8A: FIN + opcode 10), which are
/// written <c>delay</c> later. The WebSocket writes each frame with one write call, and every write here
/// goes through one lock, so a delayed pong never lands inside another frame.
/// </summary>
internal sealed class PongDelayStream(Stream inner, TimeSpan delay, TimeProvider timeProvider) : Stream
{
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private readonly CancellationTokenSource _disposed = new();

    public override bool CanRead => inner.CanRead;

    public override bool CanSeek => false;

    public override bool CanWrite => inner.CanWrite;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override void Flush() => inner.Flush();

    public override Task FlushAsync(CancellationToken cancellationToken) => inner.FlushAsync(cancellationToken);

    public override int Read(byte[] buffer, int offset, int count) => inner.Read(buffer, offset, count);

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => inner.ReadAsync(buffer, cancellationToken);

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => inner.ReadAsync(buffer, offset, count, cancellationToken);

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => WriteAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (buffer.Length >= 2 && buffer.Span[0] == 0x8A)
        {
            _ = WriteLaterAsync(buffer.ToArray());
            return;
        }

        await _writeLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await inner.WriteAsync(buffer, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _writeLock.Release();
        }
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _disposed.Cancel();
            inner.Dispose();
        }

        base.Dispose(disposing);
    }

    public override async ValueTask DisposeAsync()
    {
        await _disposed.CancelAsync().ConfigureAwait(false);
        await inner.DisposeAsync().ConfigureAwait(false);
        await base.DisposeAsync().ConfigureAwait(false);
    }

    private async Task WriteLaterAsync(byte[] frame)
    {
        try
        {
            await Task.Delay(delay, timeProvider, _disposed.Token).ConfigureAwait(false);
            await _writeLock.WaitAsync(_disposed.Token).ConfigureAwait(false);
            try
            {
                await inner.WriteAsync(frame, _disposed.Token).ConfigureAwait(false);
                await inner.FlushAsync(_disposed.Token).ConfigureAwait(false);
            }
            finally
            {
                _writeLock.Release();
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException or ObjectDisposedException or InvalidOperationException)
        {
            // The connection ended before the pong was due: nothing to deliver.
        }
    }
}
