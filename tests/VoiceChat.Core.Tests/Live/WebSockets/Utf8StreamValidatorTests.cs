using System.Text.Unicode;
using VoiceChat.Live.WebSockets;

namespace VoiceChat.Tests.Live.WebSockets;

public sealed class Utf8StreamValidatorTests
{
    public static TheoryData<string, byte[]> Texts => new()
    {
        { "ASCII", "{\"a\":1}"u8.ToArray() },
        { "two, three and four bytes", "ü € 𝄞 ok"u8.ToArray() },
        { "a lone continuation byte", [0x41, 0x80, 0x41] },
        { "a missing continuation byte", [0xC3, 0x28] },
        { "a third byte that is no continuation", [0xE2, 0x82, 0x28] },
        { "an overlong encoding", [0xC0, 0xAF] },
        { "an overlong three-byte encoding", [0xE0, 0x80, 0xAF] },
        { "a surrogate", [0xED, 0xA0, 0x80] },
        { "beyond U+10FFFF", [0xF4, 0x90, 0x80, 0x80] },
        { "a byte that never begins a character", [0x41, 0xF8, 0x88, 0x80, 0x80, 0x80] },
        { "0xFF", [0xFF] },
        { "ends inside a four-byte character", [0x41, 0xF0, 0x9D, 0x84] },
        { "ends on a lead byte", [0x41, 0xE2] },
    };

    [Theory]
    [MemberData(nameof(Texts))]
    public void Text_in_pieces_cut_anywhere_is_judged_as_the_whole_is(string what, byte[] text)
    {
        var expected = Utf8.IsValid(text);

        for (var first = 0; first <= text.Length; first++)
        {
            for (var second = first; second <= text.Length; second++)
            {
                var validator = default(Utf8StreamValidator);
                var valid = validator.Append(text.AsSpan(0, first))
                    && validator.Append(text.AsSpan(first, second - first))
                    && validator.Append(text.AsSpan(second))
                    && validator.IsComplete;

                valid.Should().Be(expected, $"{what}, cut after bytes {first} and {second}");
            }
        }
    }

    [Fact]
    public void Text_fed_one_byte_at_a_time_is_valid()
    {
        var validator = default(Utf8StreamValidator);

        foreach (var b in "Grüße, 世界 🎙"u8.ToArray())
        {
            validator.Append([b]).Should().BeTrue();
        }

        validator.IsComplete.Should().BeTrue();
    }
}
