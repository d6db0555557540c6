using System.Buffers;

namespace VoiceChat.Sessions;

/// <summary>
/// The client side of a session: a WebSocket in ASP.NET Core, an in-memory pair in tests, a
/// telephony stream later. One receive and one send may run at once; the session never runs two
/// sends at once. Cancelling a receive or send may abort the transport (as it does a WebSocket),
/// so the session cancels them only when it gives up on the client.
/// </summary>
internal interface IClientTransport
{
    /// <summary>Receives the next whole message, holding no buffer while the client is idle.</summary>
    ValueTask<ClientFrame> ReceiveAsync(int maxFrameBytes, CancellationToken cancellationToken);

    /// <summary>Sends one whole message.</summary>
    ValueTask SendAsync(ReadOnlyMemory<byte> data, bool binary, CancellationToken cancellationToken);

    /// <summary>Sends the close frame (the client's answer arrives through <see cref="ReceiveAsync"/>).</summary>
    ValueTask CloseAsync(int closeCode, string reason, CancellationToken cancellationToken);

    /// <summary>Drops the connection at once.</summary>
    void Abort();
}

internal enum ClientFrameKind
{
    Text,
    Binary,

    /// <summary>The client closed the connection (a close frame, or the connection is gone).</summary>
    Close,

    /// <summary>A message over the frame limit; its bytes were not kept.</summary>
    TooLarge,
}

/// <summary>One client message in a buffer rented from <see cref="ArrayPool{T}.Shared"/>; the receiver returns it.</summary>
internal readonly struct ClientFrame
{
    public ClientFrame(ClientFrameKind kind, byte[]? buffer = null, int length = 0)
    {
        Kind = kind;
        Buffer = buffer;
        Length = length;
    }

    public ClientFrameKind Kind { get; }

    public byte[]? Buffer { get; }

    public int Length { get; }

    public ReadOnlyMemory<byte> Memory => Buffer is null ? default : Buffer.AsMemory(0, Length);

    public void Return()
    {
        if (Buffer is not null)
        {
            ArrayPool<byte>.Shared.Return(Buffer);
        }
    }
}
