using System.Net.WebSockets;
using Microsoft.AspNetCore.Http;
using VoiceChat.Testing.Wire;

namespace VoiceChat.Testing.Sessions;

/// <summary>
/// How a connection ends: a close the emulator starts (once, with a code and reason), the client's
/// close, or an abrupt drop; and the tokens the rest of the connection stops with. It owns the socket's
/// one writer, so nothing is sent after the close frame.
/// </summary>
internal sealed class SessionLifetime : IDisposable
{
    private static readonly TimeSpan CloseHandshakeTimeout = TimeSpan.FromSeconds(5);

    private readonly WebSocket _socket;
    private readonly HttpContext _http;
    private readonly EmulatorConnection _record;
    private readonly CancellationTokenSource _lifetime;
    private readonly CancellationTokenSource _closing = new();
    private int _closed;

    public SessionLifetime(WebSocket socket, HttpContext http, EmulatorConnection record, bool textFrames, CancellationToken stopping)
    {
        _socket = socket;
        _http = http;
        _record = record;
        _lifetime = CancellationTokenSource.CreateLinkedTokenSource(stopping);
        Token = _lifetime.Token;
        Closing = _closing.Token;
        Sender = new ServerMessageSender(socket, textFrames, Token);
    }

    /// <summary>Cancelled when the connection ends (or the emulator stops): the receive loop and every wait stop.</summary>
    public CancellationToken Token { get; }

    /// <summary>Cancelled when the emulator starts a close or drops the connection: a reply in progress stops at once.</summary>
    public CancellationToken Closing { get; }

    public ServerMessageSender Sender { get; }

    /// <summary>A close was started, by either side, or the connection was dropped: client messages are no longer handled.</summary>
    public bool IsClosing => Volatile.Read(ref _closed) != 0;

    /// <summary>Open and not closing.</summary>
    public bool IsOpen => !IsClosing && !Token.IsCancellationRequested;

    /// <summary>Closes with a code and reason (once); the receive loop ends when the client answers, or is aborted after a timeout.</summary>
    public async Task CloseAsync(WebSocketCloseStatus status, string reason)
    {
        if (Interlocked.Exchange(ref _closed, 1) != 0)
        {
            return;
        }

        reason = EmulatorCloseReasons.Truncate(reason);
        _record.RecordClose(status, reason, dropped: false);
        try
        {
            await _closing.CancelAsync().ConfigureAwait(false);
        }
        catch (ObjectDisposedException)
        {
        }

        await Sender.CloseAsync(status, reason).ConfigureAwait(false);
        try
        {
            _lifetime.CancelAfter(CloseHandshakeTimeout);
        }
        catch (ObjectDisposedException)
        {
        }
    }

    /// <summary>Drops the connection without a close frame, as a network failure would.</summary>
    public async Task DropAsync()
    {
        if (Interlocked.Exchange(ref _closed, 1) != 0)
        {
            return;
        }

        _record.RecordClose(null, null, dropped: true);
        _http.Abort();
        try
        {
            await _lifetime.CancelAsync().ConfigureAwait(false);
        }
        catch (ObjectDisposedException)
        {
            // The abort already ended the session and released its lifetime.
        }
    }

    /// <summary>The client sent a close frame: it is recorded and answered.</summary>
    public async Task ClientClosedAsync()
    {
        _record.RecordClose(_socket.CloseStatus, _socket.CloseStatusDescription, dropped: false);
        Volatile.Write(ref _closed, 1);
        if (_socket.State == WebSocketState.CloseReceived)
        {
            await Sender.CloseAsync(_socket.CloseStatus ?? WebSocketCloseStatus.NormalClosure, string.Empty).ConfigureAwait(false);
        }
    }

    /// <summary>The receive loop ended: everything still running on the connection stops.</summary>
    public Task EndAsync() => _lifetime.CancelAsync();

    public void Dispose()
    {
        Sender.Dispose();
        _closing.Dispose();
        _lifetime.Dispose();
    }
}
