using System.Buffers;
using System.Net.WebSockets;
using System.Runtime.CompilerServices;
using VoiceChat.Sessions;

namespace VoiceChat.AspNetCore.Transport;

/// <summary>
/// The session's client transport over an accepted WebSocket. Reads start with a zero-byte read so
/// an idle socket holds no buffer; a message is then read into one rented buffer grown up to the
/// frame limit. The connection's abort token aborts the socket through one registration for the
/// session: a WebSocket given that token per call would register and unregister it on every frame.
/// </summary>
internal sealed class WebSocketClientTransport : IClientTransport, IDisposable
{
    // Covers 100 ms of 48 kHz audio and every control message in one rent.
    private const int InitialBufferSize = 16 * 1024;

    private readonly WebSocket _socket;
    private readonly CancellationToken _aborted;
    private readonly CancellationTokenRegistration _abortOnCancel;

    /// <param name="socket">The accepted WebSocket.</param>
    /// <param name="aborted">Fires when the connection is gone (the request's abort token): aborts the socket.</param>
    public WebSocketClientTransport(WebSocket socket, CancellationToken aborted)
    {
        _socket = socket;
        _aborted = aborted;
        _abortOnCancel = aborted.UnsafeRegister(static state => ((WebSocket)state!).Abort(), socket);
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public async ValueTask<ClientFrame> ReceiveAsync(int maxFrameBytes, CancellationToken cancellationToken)
    {
        ValueWebSocketReceiveResult result;
        try
        {
            result = await _socket.ReceiveAsync(Memory<byte>.Empty, ForSocket(cancellationToken)).ConfigureAwait(false);
        }
        catch (WebSocketException)
        {
            return new ClientFrame(ClientFrameKind.Close);
        }

        if (result.MessageType == WebSocketMessageType.Close)
        {
            return new ClientFrame(ClientFrameKind.Close);
        }

        var kind = result.MessageType == WebSocketMessageType.Binary ? ClientFrameKind.Binary : ClientFrameKind.Text;
        var buffer = ArrayPool<byte>.Shared.Rent(Math.Min(InitialBufferSize, maxFrameBytes));
        var length = 0;
        try
        {
            while (!result.EndOfMessage)
            {
                if (length == buffer.Length)
                {
                    if (length >= maxFrameBytes)
                    {
                        ArrayPool<byte>.Shared.Return(buffer);
                        return new ClientFrame(ClientFrameKind.TooLarge);
                    }

                    var larger = ArrayPool<byte>.Shared.Rent(Math.Min(buffer.Length * 2, maxFrameBytes));
                    buffer.AsSpan(0, length).CopyTo(larger);
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = larger;
                }

                // Never read past the limit: a rented array may be larger than asked for.
                var room = Math.Min(buffer.Length, maxFrameBytes) - length;
                if (room == 0)
                {
                    ArrayPool<byte>.Shared.Return(buffer);
                    return new ClientFrame(ClientFrameKind.TooLarge);
                }

                result = await _socket.ReceiveAsync(buffer.AsMemory(length, room), ForSocket(cancellationToken)).ConfigureAwait(false);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    ArrayPool<byte>.Shared.Return(buffer);
                    return new ClientFrame(ClientFrameKind.Close);
                }

                length += result.Count;
            }
        }
        catch (WebSocketException)
        {
            ArrayPool<byte>.Shared.Return(buffer);
            return new ClientFrame(ClientFrameKind.Close);
        }
        catch
        {
            ArrayPool<byte>.Shared.Return(buffer);
            throw;
        }

        return new ClientFrame(kind, buffer, length);
    }

    public ValueTask SendAsync(ReadOnlyMemory<byte> data, bool binary, CancellationToken cancellationToken) =>
        _socket.SendAsync(data, binary ? WebSocketMessageType.Binary : WebSocketMessageType.Text, endOfMessage: true, ForSocket(cancellationToken));

    public async ValueTask CloseAsync(int closeCode, string reason, CancellationToken cancellationToken)
    {
        if (_socket.State is WebSocketState.Open or WebSocketState.CloseReceived)
        {
            await _socket.CloseOutputAsync((WebSocketCloseStatus)closeCode, reason, cancellationToken).ConfigureAwait(false);
        }
    }

    public void Abort() => _socket.Abort();

    public void Dispose() => _abortOnCancel.Dispose();

    // The abort token is already watched; any other token is the WebSocket's to watch.
    private CancellationToken ForSocket(CancellationToken token)
    {
        if (token == _aborted)
        {
            token.ThrowIfCancellationRequested();
            return CancellationToken.None;
        }

        return token;
    }
}
