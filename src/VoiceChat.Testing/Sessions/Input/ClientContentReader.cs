using System.Text;
using System.Text.Json;
using static VoiceChat.Testing.Wire.ProtoJson;

namespace VoiceChat.Testing.Sessions.Input;

/// <summary>The text turns of one <c>clientContent</c> message, in order.</summary>
/// <param name="Turns">Each turn's role and text (turns without text are left out).</param>
/// <param name="Valid">False when a turn held a part Live does not accept here; <paramref name="Turns"/> then holds the turns before it.</param>
/// <param name="TurnComplete">The message ended the client's turn.</param>
internal sealed record ClientContent(IReadOnlyList<(string? Role, string Text)> Turns, bool Valid, bool TurnComplete)
{
    /// <summary>The text of the last turn not spoken by the model, or null.</summary>
    public string? LastUserText => Turns.LastOrDefault(t => !string.Equals(t.Role, "model", StringComparison.Ordinal)).Text;
}

/// <summary>Reads <c>clientContent</c>: typed turns, or the initial history a client seeds.</summary>
internal static class ClientContentReader
{
    public static ClientContent Read(ReadOnlyMemory<byte> message)
    {
        using var document = JsonDocument.Parse(message);
        var content = document.RootElement.EnumerateObject().First().Value;
        var read = new List<(string?, string)>();
        if (TryGet(content, "turns", out var turns) && turns.ValueKind == JsonValueKind.Array)
        {
            foreach (var turn in turns.EnumerateArray())
            {
                var role = TryGet(turn, "role", out var r) ? r.GetString() : "user";
                if (!TryGet(turn, "parts", out var parts) || parts.ValueKind != JsonValueKind.Array)
                {
                    continue;
                }

                var text = new StringBuilder();
                foreach (var part in parts.EnumerateArray())
                {
                    if (TryGet(part, "functionCall", out _) || TryGet(part, "functionResponse", out _))
                    {
                        // Live only accepts text and media content here.
                        return new ClientContent(read, Valid: false, TurnComplete: false);
                    }

                    if (TryGet(part, "text", out var t) && t.ValueKind == JsonValueKind.String)
                    {
                        text.Append(t.GetString());
                    }
                }

                if (text.Length > 0)
                {
                    read.Add((role, text.ToString()));
                }
            }
        }

        var complete = TryGet(content, "turnComplete", out var tc) && tc.ValueKind == JsonValueKind.True;
        return new ClientContent(read, Valid: true, complete);
    }
}
