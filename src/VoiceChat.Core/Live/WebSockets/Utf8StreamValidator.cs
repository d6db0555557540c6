using System.Buffers;
using System.Text;
using System.Text.Unicode;

namespace VoiceChat.Live.WebSockets;

/// <summary>
/// Checks that a text message is UTF-8 (RFC 6455, 8.1) as it arrives in pieces of any size, across
/// fragments: each piece is checked with the vectorised <see cref="Utf8.IsValid(ReadOnlySpan{byte})"/>,
/// and the one to three bytes of a character cut at a piece's end are kept until the next piece
/// completes it. A mutable struct held in a field: no allocation.
/// </summary>
internal struct Utf8StreamValidator
{
    // The bytes of the cut character, the first in the lowest byte.
    private uint _cut;
    private int _cutLength;
    private int _cutNeeded;

    /// <summary>True when the text so far ends on a whole character (a message must end so).</summary>
    public readonly bool IsComplete => _cutLength == 0;

    /// <summary>Checks the next piece; false when the text is not UTF-8.</summary>
    public bool Append(ReadOnlySpan<byte> piece)
    {
        if (_cutLength > 0)
        {
            Span<byte> character = stackalloc byte[4];
            for (var i = 0; i < _cutLength; i++)
            {
                character[i] = (byte)(_cut >> (8 * i));
            }

            var take = Math.Min(_cutNeeded - _cutLength, piece.Length);
            piece[..take].CopyTo(character[_cutLength..]);
            piece = piece[take..];
            if (_cutLength + take < _cutNeeded)
            {
                Keep(character[..(_cutLength + take)], _cutNeeded);
                return true;
            }

            _cutLength = 0;
            if (Rune.DecodeFromUtf8(character[.._cutNeeded], out _, out _) != OperationStatus.Done)
            {
                return false;
            }
        }

        var cut = CutLength(piece, out var needed);
        if (!Utf8.IsValid(piece[..^cut]))
        {
            return false;
        }

        if (cut > 0)
        {
            Keep(piece[^cut..], needed);
        }

        return true;
    }

    /// <summary>The length of a character begun but not finished at the end of <paramref name="piece"/> (0 to 3), and how many bytes it takes in all.</summary>
    private static int CutLength(ReadOnlySpan<byte> piece, out int needed)
    {
        needed = 0;
        for (var back = 1; back <= Math.Min(3, piece.Length); back++)
        {
            var b = piece[^back];
            if ((b & 0xC0) == 0x80)
            {
                continue; // a continuation byte: the character began further back
            }

            // A byte that cannot begin a character (0xF8 and up) takes "4": it is kept and refused with the next piece or at the end.
            needed = b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : b >= 0xC0 ? 2 : 1;
            return needed > back ? back : 0;
        }

        return 0;
    }

    private void Keep(ReadOnlySpan<byte> bytes, int needed)
    {
        _cut = 0;
        for (var i = 0; i < bytes.Length; i++)
        {
            _cut |= (uint)bytes[i] << (8 * i);
        }

        _cutLength = bytes.Length;
        _cutNeeded = needed;
    }
}
