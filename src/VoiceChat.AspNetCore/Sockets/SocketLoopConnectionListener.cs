using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Threading.Channels;
using Microsoft.AspNetCore.Connections;
using VoiceChat.Sockets;

namespace VoiceChat.AspNetCore.Sockets;

/// <summary>A listening socket on a socket loop: the loop accepts, Kestrel takes the connections from a queue.</summary>
internal sealed class SocketLoopConnectionListener : IConnectionListener, ISocketEventHandler
{
    private readonly SocketLoopGroup _loops;
    private readonly SocketLoop _loop;
    private readonly Socket _socket;
    private readonly long _registration;
    private readonly Action<Exception> _onError;
    private readonly Channel<ConnectionContext> _accepted = Channel.CreateUnbounded<ConnectionContext>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
    private int _unbound;

    public SocketLoopConnectionListener(SocketLoopGroup loops, IPEndPoint endPoint, int backlog, Action<Exception> onError)
    {
        _loops = loops;
        _onError = onError;
        _socket = new Socket(endPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            if (endPoint.Address.Equals(IPAddress.IPv6Any))
            {
                _socket.DualMode = true;
            }

            _socket.Bind(endPoint);
            _socket.Listen(backlog);
            _socket.Blocking = false;
        }
        catch (SocketException ex) when (ex.SocketErrorCode == SocketError.AddressAlreadyInUse)
        {
            _socket.Dispose();
            throw new AddressInUseException(ex.Message, ex);
        }
        catch
        {
            _socket.Dispose();
            throw;
        }

        EndPoint = _socket.LocalEndPoint!;
        _loop = loops.Next();
        _registration = _loop.Register(_socket.Handle, this);
    }

    public EndPoint EndPoint { get; }

    public async ValueTask<ConnectionContext?> AcceptAsync(CancellationToken cancellationToken = default)
    {
        try
        {
            return await _accepted.Reader.ReadAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (ChannelClosedException)
        {
            return null;
        }
    }

    public void OnSocketEvents(uint events)
    {
        while (Volatile.Read(ref _unbound) == 0)
        {
            var fd = LinuxSockets.Accept((int)_socket.Handle, 0, 0, LinuxSockets.NonBlocking | LinuxSockets.CloseOnExec);
            if (fd < 0)
            {
                var errno = Marshal.GetLastPInvokeError();
                if (errno == LinuxSockets.EAGAIN)
                {
                    return;
                }

                if (errno is LinuxSockets.EINTR or LinuxSockets.ECONNABORTED)
                {
                    continue;
                }

                // Out of descriptors, say: the next connection attempt brings another event.
                _onError(new IOException($"accept4 failed (errno {errno})."));
                return;
            }

            var socket = new Socket(new SafeSocketHandle(fd, ownsHandle: true));
            try
            {
                var connection = _loops.Accept(socket);
                _accepted.Writer.TryWrite(new SocketLoopConnectionContext(connection, _loops.Pool));
            }
            catch (Exception ex) when (ex is SocketException or IOException)
            {
                socket.Dispose();
                _onError(ex);
            }
        }
    }

    public async ValueTask UnbindAsync(CancellationToken cancellationToken = default)
    {
        if (Interlocked.Exchange(ref _unbound, 1) == 0)
        {
            // On the loop's thread, so that no accept runs on the socket while it closes.
            var closed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _loop.Schedule(static state =>
            {
                var (listener, done) = ((SocketLoopConnectionListener, TaskCompletionSource))state!;
                listener._loop.Unregister(listener._socket.Handle, listener._registration);
                listener._socket.Dispose();
                listener._accepted.Writer.TryComplete();
                done.SetResult();
            }, (this, closed));
            await closed.Task.ConfigureAwait(false);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await UnbindAsync().ConfigureAwait(false);

        // Connections accepted but never taken are closed.
        while (_accepted.Reader.TryRead(out var connection))
        {
            await connection.DisposeAsync().ConfigureAwait(false);
        }
    }
}
