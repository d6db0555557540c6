using System.Buffers.Text;
using System.Globalization;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;

namespace VoiceChat.LoadGen;

/// <summary>
/// A session over client protocol v1: <c>start_session</c>, binary PCM16 both ways, <c>end_session</c>;
/// as a counting client also <c>ack</c>, and resuming with the latest <c>resume_token</c>.
/// </summary>
internal sealed class RelaySession : LoadSession
{
    private static readonly byte[] EndSession = """{"type":"end_session"}"""u8.ToArray();
    private readonly byte[] _ack = new byte[64];
    private string? _resumeToken;

    public RelaySession(int index, LoadOptions options, RunStats stats)
        : base(index, options, stats)
    {
    }

    protected override Uri ConnectUri => Options.Url;

    protected override ValueTask SendHandshakeAsync(CancellationToken cancellationToken)
        => SendStartAsync(Options.Counting ? ""","received":0""" : "", cancellationToken);

    protected override ValueTask SendResumeAsync(long received, CancellationToken cancellationToken)
        => SendStartAsync(
            string.Create(CultureInfo.InvariantCulture, $$""","resume_token":"{{_resumeToken}}","received":{{received}}"""),
            cancellationToken);

    protected override ValueTask SendAckAsync(long received, CancellationToken cancellationToken)
    {
        // Written into a buffer of the session's own: an ack every few frames allocates nothing.
        var prefix = """{"type":"ack","received":"""u8;
        prefix.CopyTo(_ack);
        var length = prefix.Length;
        Utf8Formatter.TryFormat(received, _ack.AsSpan(length), out var digits);
        length += digits;
        _ack[length++] = (byte)'}';
        return Socket.SendAsync(_ack.AsMemory(0, length), WebSocketMessageType.Text, true, cancellationToken);
    }

    /// <summary><c>start_session</c> with this session's ids and <paramref name="fields"/> (each with its leading comma).</summary>
    private ValueTask SendStartAsync(string fields, CancellationToken cancellationToken)
    {
        var id = "bench-" + Index.ToString(CultureInfo.InvariantCulture);
        var start = Encoding.UTF8.GetBytes(
            $$"""{"type":"start_session","user_id":"{{id}}","session_id":"{{id}}","input_sample_rate":{{Options.SampleRate}}{{fields}}}""");
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
            CountNumbered();
            OnAudio(message);
            return;
        }

        // Control messages are rare: reading them may allocate.
        string? messageType = null, code = null, reason = null, token = null, resumeFailed = null;
        long? received = null;
        var fatal = false;
        var resumed = false;
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
                            case "resume_token": token = reader.GetString(); break;
                            case "resumed": resumed = reader.TokenType == JsonTokenType.True; break;
                            case "received": received = reader.GetInt64(); break;
                            case "resume_failed": resumeFailed = reader.GetString(); break;
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
                _resumeToken = token;
                if (IsResuming)
                {
                    MarkResumeStarted(resumed ? received ?? 0 : null, resumed ? null : resumeFailed ?? "resumed_false");
                }
                else
                {
                    MarkStarted();
                }

                break;
            case "transcript" or "interrupted" or "turn_complete" or "tool_call":
                CountNumbered();
                CountOther();
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
