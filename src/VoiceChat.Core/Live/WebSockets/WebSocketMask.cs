using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Security.Cryptography;

namespace VoiceChat.Live.WebSockets;

/// <summary>The opcodes of RFC 6455, section 5.2.</summary>
internal enum WebSocketOpcode : byte
{
    Continuation = 0x0,
    Text = 0x1,
    Binary = 0x2,
    Close = 0x8,
    Ping = 0x9,
    Pong = 0xA,
}

/// <summary>
/// Client frames: the header, a fresh mask key and the masked payload, written into one buffer.
/// Mask keys must be unpredictable (RFC 6455, 5.3); they come from the platform's cryptographic
/// generator, drawn <see cref="KeysPerDraw"/> keys at a time per thread rather than once per frame.
/// </summary>
internal static class WebSocketMask
{
    /// <summary>How many frames' mask keys one call to the cryptographic generator supplies.</summary>
    public const int KeysPerDraw = 256;

    /// <summary>The largest header a client frame has: 2 bytes, an 8-byte length, a 4-byte key.</summary>
    public const int MaxHeaderLength = 14;

    [ThreadStatic]
    private static byte[]? t_keys;

    [ThreadStatic]
    private static int t_next;

    /// <summary>Writes one masked frame of <paramref name="payload"/> into <paramref name="frame"/>
    /// (at least <see cref="MaxHeaderLength"/> bytes longer than the payload); returns its length.</summary>
    public static int WriteMaskedFrame(Span<byte> frame, WebSocketOpcode opcode, bool final, ReadOnlySpan<byte> payload)
    {
        frame[0] = (byte)((final ? 0x80 : 0) | (byte)opcode);
        int offset;
        if (payload.Length < 126)
        {
            frame[1] = (byte)(0x80 | payload.Length);
            offset = 2;
        }
        else if (payload.Length <= ushort.MaxValue)
        {
            frame[1] = 0x80 | 126;
            BinaryPrimitives.WriteUInt16BigEndian(frame[2..], (ushort)payload.Length);
            offset = 4;
        }
        else
        {
            frame[1] = 0x80 | 127;
            BinaryPrimitives.WriteUInt64BigEndian(frame[2..], (ulong)payload.Length);
            offset = 10;
        }

        var key = frame.Slice(offset, 4);
        NextKey(key);
        offset += 4;
        Apply(payload, frame.Slice(offset, payload.Length), key);
        return offset + payload.Length;
    }

    /// <summary>Copies <paramref name="source"/> to <paramref name="destination"/>, XORed with the repeating 4-byte <paramref name="key"/>.</summary>
    public static void Apply(ReadOnlySpan<byte> source, Span<byte> destination, ReadOnlySpan<byte> key)
    {
        Span<byte> twice = stackalloc byte[sizeof(ulong)];
        key.CopyTo(twice);
        key.CopyTo(twice[4..]);
        var key64 = MemoryMarshal.Read<ulong>(twice);
        var words = source.Length / sizeof(ulong);
        var from = MemoryMarshal.Cast<byte, ulong>(source[..(words * sizeof(ulong))]);
        var to = MemoryMarshal.Cast<byte, ulong>(destination[..(words * sizeof(ulong))]);
        for (var i = 0; i < from.Length; i++)
        {
            to[i] = from[i] ^ key64;
        }

        for (var i = words * sizeof(ulong); i < source.Length; i++)
        {
            destination[i] = (byte)(source[i] ^ key[i & 3]);
        }
    }

    private static void NextKey(Span<byte> key)
    {
        var keys = t_keys ??= new byte[KeysPerDraw * 4];
        if (t_next == 0)
        {
            RandomNumberGenerator.Fill(keys);
        }

        // A key is used once: the next frame on this thread takes the next one.
        keys.AsSpan(t_next * 4, 4).CopyTo(key);
        t_next = (t_next + 1) % KeysPerDraw;
    }
}
