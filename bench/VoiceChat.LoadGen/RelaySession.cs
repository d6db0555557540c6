using System.Globalization;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;

namespace VoiceChat.LoadGen;

/// <summary>A session over client protocol v1: <c>start_session</c>, binary PCM16 both ways, <c>end_session</c>.</summary>
internal sealed class RelaySession : LoadSession
{
    private static readonly byte[] EndSession = """{"type":"end_session"}"""u8.ToArray();

    public RelaySession(int index, LoadOptions options, RunStats stats)
        : base(index, options, stats)
    {
    }

    protected override Uri ConnectUri => Options.Url;

    protected override ValueTask SendHandshakeAsync(CancellationToken cancellationToken)
    {
        var id = "bench-" + Index.ToString(CultureInfo.InvariantCulture);
        var start = Encoding.UTF8.GetBytes(
            $$"""{"type":"start_session","user_id":"{{id}}","session_id":"{{id}}","input_sample_rate":{{Options.SampleRate}}}""");
        return Socket.SendAsync(start.AsMemory(), WebSocketMessageType.Text, true, cancellationToken);
    }

    protected override ValueTask SendFrameAsync(ReadOnlyMemory<byte> pcm, CancellationToken cancellationToken)
        => Socket.SendAsync(pcm, WebSocketMessageType.Binary, true, cancellationToken);

    protected override ValueTask SendEndAsync(CancellationToken cancellationToken)
        => Socket.SendAsync(EndSession.AsMemory(), WebSocketMessageType.Text, true, cancellationToken);

    protected override void OnMessage(ReadOnlySpan<byte> message, WebSocketMessageType type)
    {
        if (type == WebSocketMessageType.Binary)
        {
            OnAudio(message);
            return;
        }

        // Control messages are rare: reading them may allocate.
        string? messageType = null, code = null, reason = null;
        var fatal = false;
        try
        {
            var reader = new Utf8JsonReader(message);
            var depth = 0;
            while (reader.Read())
            {
                switch (reader.TokenType)
                {
                    case JsonTokenType.StartObject or JsonTokenType.StartArray:
                        depth++;
                        break;
                    case JsonTokenType.EndObject or JsonTokenType.EndArray:
                        depth--;
                        break;
                    case JsonTokenType.PropertyName when depth == 1:
                        var name = reader.GetString();
                        reader.Read();
                        if (reader.TokenType is JsonTokenType.StartObject or JsonTokenType.StartArray)
                        {
                            reader.Skip();
                            break;
                        }

                        switch (name)
                        {
                            case "type": messageType = reader.GetString(); break;
                            case "code": code = reader.GetString(); break;
                            case "reason": reason = reader.GetString(); break;
                            case "fatal": fatal = reader.TokenType == JsonTokenType.True; break;
                        }

                        break;
                }
            }
        }
        catch (JsonException)
        {
            ServerError("bench_invalid_json_from_server", fatal: false);
            return;
        }

        switch (messageType)
        {
            case "session_started":
                MarkStarted();
                break;
            case "error":
                ServerError(code ?? "error_without_code", fatal);
                break;
            case "session_ended":
                if (Ending && reason == "client_ended")
                {
                    EndConfirmed = true;
                }
                else
                {
                    ServerError("session_ended:" + (reason ?? "none"), fatal: true);
                }

                break;
            default:
                CountOther();
                break;
        }
    }
}
