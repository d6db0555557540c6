using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;

namespace VoiceChat.Sockets;

/// <summary>
/// A connected TCP socket on a <see cref="SocketLoop"/>, as a pair of pipes. Reads happen on the loop's
/// thread once epoll has reported data, straight into the input pipe, whose reader then runs on that
/// thread too; reading stops at the first short read, so no read tries an empty socket first. A flush
/// of the output pipe sends at once on the flushing thread; only a full socket buffer makes the sender
/// wait for the loop.
/// </summary>
internal sealed class LoopConnection : IDuplexPipe, ISocketEventHandler, IAsyncDisposable
{
    private readonly SocketLoop _loop;
    private readonly Socket _socket;
    private readonly nint _fd;
    private readonly long _registration;
    private readonly Pipe _input;
    private readonly Pipe _output;
    private readonly CancellationTokenSource _closed = new();
    private readonly Lock _gate = new();
    private readonly Task _sending;
    private readonly TaskCompletionSource? _connect;
    private bool _connecting; // Owned by the loop's thread after registration.
    private TaskCompletionSource? _writeWaiter;
    private bool _writeReady;
    private Exception? _abortReason;
    private int _aborted;
    private int _closedFired;
    private int _disposed;

    // Owned by the loop's thread.
    private bool _readable;
    private bool _readPaused;
    private bool _inputDone;
    private bool _socketClosed;

    private LoopConnection(SocketLoop loop, Socket socket, MemoryPool<byte> pool, SocketLoopSettings settings, bool connecting)
    {
        _loop = loop;
        _socket = socket;
        socket.Blocking = false; // Reads and sends return "would block" instead of waiting.
        _fd = socket.Handle;

        // Not while connecting: .NET's getter then polls the socket, which takes its pending error (a refused connect would pass).
        LocalEndPoint = connecting ? null : socket.LocalEndPoint;
        _input = new Pipe(new PipeOptions(pool, readerScheduler: PipeScheduler.Inline, writerScheduler: loop,
            pauseWriterThreshold: settings.MaxInputBufferBytes, resumeWriterThreshold: settings.MaxInputBufferBytes / 2,
            minimumSegmentSize: BlockMemoryPool.BlockSize, useSynchronizationContext: false));
        _output = new Pipe(new PipeOptions(pool, readerScheduler: PipeScheduler.Inline, writerScheduler: PipeScheduler.Inline,
            pauseWriterThreshold: settings.MaxOutputBufferBytes, resumeWriterThreshold: settings.MaxOutputBufferBytes / 2,
            minimumSegmentSize: BlockMemoryPool.BlockSize, useSynchronizationContext: false));
        if (connecting)
        {
            _connect = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _connecting = true;
        }

        _registration = loop.Register(_fd, this);
        _sending = SendLoopAsync();
    }

    /// <summary>Bytes from the peer; completes at its end of stream, or with the error that ended the connection.</summary>
    public PipeReader Input => _input.Reader;

    /// <summary>Bytes for the peer; completing it ends the sending side once everything is sent.</summary>
    public PipeWriter Output => _output.Writer;

    /// <summary>Cancelled when the peer has gone (end of stream, reset) or the connection was aborted.</summary>
    public CancellationToken Closed => _closed.Token;

    public EndPoint? LocalEndPoint { get; private set; }

    public EndPoint? RemoteEndPoint { get; private init; }

    /// <summary>Takes over an accepted, non-blocking socket.</summary>
    public static LoopConnection Accept(SocketLoop loop, Socket socket, MemoryPool<byte> pool, SocketLoopSettings settings)
    {
        socket.NoDelay = true;
        return new LoopConnection(loop, socket, pool, settings, connecting: false) { RemoteEndPoint = socket.RemoteEndPoint };
    }

    /// <summary>Opens a connection to <paramref name="endPoint"/>.</summary>
    public static async ValueTask<LoopConnection> ConnectAsync(SocketLoop loop, IPEndPoint endPoint, MemoryPool<byte> pool, SocketLoopSettings settings, CancellationToken cancellationToken)
    {
        // A loopback connect completes at once, and the wait below would return it despite the token.
        cancellationToken.ThrowIfCancellationRequested();
        var socket = new Socket(endPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true, Blocking = false };
        try
        {
            socket.Connect(endPoint);
        }
        catch (SocketException ex) when (ex.SocketErrorCode is SocketError.WouldBlock or SocketError.InProgress)
        {
            // Completes when epoll reports the socket writable (or failed).
        }
        catch
        {
            socket.Dispose();
            throw;
        }

        var connection = new LoopConnection(loop, socket, pool, settings, connecting: true) { RemoteEndPoint = endPoint };
        try
        {
            await connection._connect!.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
            connection.LocalEndPoint = socket.LocalEndPoint;
            return connection;
        }
        catch
        {
            connection.Abort(null);
            await connection.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    public void OnSocketEvents(uint events)
    {
        if (_connecting && (events & (LinuxSockets.EpollOut | LinuxSockets.EpollErr | LinuxSockets.EpollHup)) != 0)
        {
            _connecting = false;
            var connecting = _connect!;
            var error = (SocketError)(int)_socket.GetSocketOption(SocketOptionLevel.Socket, SocketOptionName.Error)!;
            if (error != SocketError.Success || (events & LinuxSockets.EpollErr) != 0)
            {
                connecting.TrySetException(new SocketException((int)(error == SocketError.Success ? SocketError.ConnectionRefused : error)));
                return;
            }

            connecting.TrySetResult();
        }

        if ((events & (LinuxSockets.EpollOut | LinuxSockets.EpollErr | LinuxSockets.EpollHup)) != 0)
        {
            SignalWritable(null);
        }

        if ((events & (LinuxSockets.EpollIn | LinuxSockets.EpollErr | LinuxSockets.EpollHup | LinuxSockets.EpollRdHup)) != 0)
        {
            _readable = true;
            Receive();
        }
    }

    /// <summary>Ends the connection now: both directions, unsent output dropped.</summary>
    public void Abort(Exception? reason)
    {
        if (Interlocked.Exchange(ref _aborted, 1) != 0)
        {
            return;
        }

        lock (_gate)
        {
            _abortReason = reason ?? new IOException("The connection was aborted.");
        }

        try
        {
            _socket.Shutdown(SocketShutdown.Both);
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            // Already gone.
        }

        _output.Reader.CancelPendingRead();
        SignalWritable(_abortReason);
        _loop.Schedule(static state => ((LoopConnection)state!).CompleteInput(((LoopConnection)state!)._abortReason), this);
        FireClosed();
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        _input.Reader.Complete();
        _output.Writer.Complete();
        await _sending.ConfigureAwait(false);
        var closed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _loop.Schedule(static state =>
        {
            var (connection, done) = ((LoopConnection, TaskCompletionSource))state!;
            connection.CloseSocket();
            done.SetResult();
        }, (this, closed));
        await closed.Task.ConfigureAwait(false);
    }

    // Loop thread: reads while the socket has data and the pipe has room.
    private void Receive()
    {
        var writer = _input.Writer;
        while (_readable && !_readPaused && !_inputDone && !_socketClosed)
        {
            var memory = writer.GetMemory(BlockMemoryPool.BlockSize);
            var received = _socket.Receive(memory.Span, SocketFlags.None, out var error);
            if (error == SocketError.WouldBlock)
            {
                _readable = false;
                return;
            }

            if (error != SocketError.Success)
            {
                CompleteInput(new IOException("The connection was reset.", new SocketException((int)error)));
                return;
            }

            if (received == 0)
            {
                CompleteInput(null);
                return;
            }

            writer.Advance(received);

            // Less than asked for: the socket is drained, and edge-triggered epoll reports new data.
            _readable = received == memory.Length;
            var flush = writer.FlushAsync();
            if (!flush.IsCompleted)
            {
                _readPaused = true;
                _ = ResumeAfterAsync(flush);
                return;
            }

            if (flush.Result.IsCompleted)
            {
                _inputDone = true; // The reader is done with the input.
                return;
            }
        }
    }

    // The pipe's writer callbacks run on the loop (its writer scheduler), so this resumes there.
    private async Task ResumeAfterAsync(ValueTask<FlushResult> flush)
    {
        var result = await flush.ConfigureAwait(false);
        _readPaused = false;
        if (result.IsCompleted)
        {
            _inputDone = true;
            return;
        }

        Receive();
    }

    private void CompleteInput(Exception? error)
    {
        if (_inputDone)
        {
            return;
        }

        _inputDone = true;
        lock (_gate)
        {
            // Abort's shutdown can reach the loop as an end of stream first; the reader must still see the abort.
            error = _abortReason ?? error;
        }

        _input.Writer.Complete(error);
        FireClosed();
    }

    private void CloseSocket()
    {
        if (_socketClosed)
        {
            return;
        }

        _socketClosed = true;
        CompleteInput(_abortReason);
        _loop.Unregister(_fd, _registration);
        _socket.Dispose();
        FireClosed();
    }

    private void FireClosed()
    {
        if (Interlocked.Exchange(ref _closedFired, 1) == 0)
        {
            // Off this thread: whoever watches the token may do a lot.
            ThreadPool.UnsafeQueueUserWorkItem(static source => source.Cancel(), _closed, preferLocal: false);
        }
    }

    private async Task SendLoopAsync()
    {
        Exception? error = null;
        var reader = _output.Reader;
        try
        {
            while (true)
            {
                var result = await reader.ReadAsync().ConfigureAwait(false);
                if (result.IsCanceled || _aborted != 0)
                {
                    break;
                }

                var buffer = result.Buffer;
                foreach (var segment in buffer)
                {
                    var rest = segment;
                    while (!rest.IsEmpty)
                    {
                        var sent = _socket.Send(rest.Span, SocketFlags.None, out var socketError);
                        if (socketError == SocketError.Success)
                        {
                            rest = rest[sent..];
                        }
                        else if (socketError == SocketError.WouldBlock)
                        {
                            await WaitWritableAsync().ConfigureAwait(false);
                        }
                        else
                        {
                            throw new IOException("The connection was reset.", new SocketException((int)socketError));
                        }
                    }
                }

                reader.AdvanceTo(buffer.End);
                if (result.IsCompleted)
                {
                    break;
                }
            }
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException or SocketException || _aborted != 0)
        {
            // After Abort, a waiting send ends with the abort's reason, whatever its type (Kestrel's is an OperationCanceledException).
            error = ex;
            Abort(ex);
        }
        finally
        {
            await reader.CompleteAsync(error).ConfigureAwait(false);
        }

        if (error is null && _aborted == 0)
        {
            try
            {
                _socket.Shutdown(SocketShutdown.Send);
            }
            catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
            {
                // The peer has gone already.
            }
        }
    }

    private Task WaitWritableAsync()
    {
        lock (_gate)
        {
            if (_abortReason is not null)
            {
                return Task.FromException(_abortReason);
            }

            if (_writeReady)
            {
                _writeReady = false; // One more try; the next would-block waits for epoll.
                return Task.CompletedTask;
            }

            _writeWaiter = new TaskCompletionSource();
            return _writeWaiter.Task;
        }
    }

    private void SignalWritable(Exception? error)
    {
        TaskCompletionSource? waiter;
        lock (_gate)
        {
            waiter = _writeWaiter;
            _writeWaiter = null;
            _writeReady = waiter is null;
        }

        if (error is null)
        {
            waiter?.TrySetResult();
        }
        else
        {
            waiter?.TrySetException(error);
        }
    }
}
