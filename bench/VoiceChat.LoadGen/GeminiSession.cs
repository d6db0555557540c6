using System.Buffers;
using System.Buffers.Text;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;

namespace VoiceChat.LoadGen;

/// <summary>
/// A session that speaks the Gemini Live protocol straight to the emulator: <c>setup</c> →
/// <c>setupComplete</c>, <c>realtimeInput.audio</c> (base64) out, <c>serverContent</c> inline audio back.
/// Measures the round trip without a relay. Encoding and decoding use per-session buffers.
/// </summary>
internal sealed class GeminiSession : LoadSession
{
    private const string DefaultPath = "/ws/google.ai.generativelanguage.v1beta.GenerativeService.BidiGenerateContent";

    private static readonly byte[] Prefix = "{\"realtimeInput\":{\"audio\":{\"mimeType\":\"audio/pcm;rate=16000\",\"data\":\""u8.ToArray();
    private static readonly byte[] Suffix = "\"}}}"u8.ToArray();

    private readonly byte[] _message;
    private readonly byte[] _decoded;
    private readonly byte[] _unescaped;
    private readonly Uri _uri;

    public GeminiSession(int index, LoadOptions options, RunStats stats)
        : base(index, options, stats)
    {
        _message = new byte[Prefix.Length + Base64.GetMaxEncodedToUtf8Length(options.FrameBytes) + Suffix.Length];
        Prefix.CopyTo(_message, 0);
        _decoded = new byte[Math.Max(options.FrameBytes * 4, 64 * 1024)];
        _unescaped = new byte[Base64.GetMaxEncodedToUtf8Length(_decoded.Length)];
        var builder = new UriBuilder(options.Url);
        if (builder.Path is "" or "/")
        {
            builder.Path = DefaultPath;
        }

        builder.Query = "key=bench";
        _uri = builder.Uri;
    }

    protected override Uri ConnectUri => _uri;

    protected override ValueTask SendHandshakeAsync(CancellationToken cancellationToken)
    {
        var setup = Encoding.UTF8.GetBytes(
            "{\"setup\":{\"model\":\"models/" + Options.GeminiModel + "\",\"generationConfig\":{\"responseModalities\":[\"AUDIO\"]}}}");
        return Socket.SendAsync(setup.AsMemory(), WebSocketMessageType.Text, true, cancellationToken);
    }

    protected override ValueTask SendFrameAsync(ReadOnlyMemory<byte> pcm, CancellationToken cancellationToken)
    {
        var destination = _message.AsSpan(Prefix.Length);
        Base64.EncodeToUtf8(pcm.Span, destination, out _, out var written);
        Suffix.CopyTo(destination[written..]);
        var length = Prefix.Length + written + Suffix.Length;
        return Socket.SendAsync(_message.AsMemory(0, length), WebSocketMessageType.Text, true, cancellationToken);
    }

    protected override ValueTask SendEndAsync(CancellationToken cancellationToken)
    {
        EndConfirmed = true; // Gemini Live has no end message: a normal close is the end.
        return new ValueTask(Socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, cancellationToken));
    }

    protected override void OnMessage(ReadOnlySpan<byte> message, WebSocketMessageType type)
    {
        // Server JSON arrives in binary or text frames alike. Only the audio is decoded; the rest is skimmed.
        try
        {
            var reader = new Utf8JsonReader(message);
            var audio = false;
            while (reader.Read())
            {
                if (reader.TokenType != JsonTokenType.PropertyName)
                {
                    continue;
                }

                if (reader.CurrentDepth == 1 && reader.ValueTextEquals("setupComplete"u8))
                {
                    MarkStarted();
                    reader.Skip();
                }
                else if (reader.ValueTextEquals("data"u8))
                {
                    reader.Read();
                    if (reader.TokenType != JsonTokenType.String)
                    {
                        continue;
                    }

                    ReadOnlySpan<byte> base64 = reader.ValueSpan;
                    if (reader.ValueIsEscaped)
                    {
                        var n = reader.CopyString(_unescaped);
                        base64 = _unescaped.AsSpan(0, n);
                    }

                    if (Base64.DecodeFromUtf8(base64, _decoded, out _, out var decoded) == OperationStatus.Done)
                    {
                        OnAudio(_decoded.AsSpan(0, decoded));
                        audio = true;
                    }
                }
                else if (reader.CurrentDepth == 1 && reader.ValueTextEquals("goAway"u8))
                {
                    ServerError("go_away", fatal: false);
                    reader.Skip();
                }
            }

            if (!audio)
            {
                CountOther();
            }
        }
        catch (JsonException)
        {
            ServerError("bench_invalid_json_from_server", fatal: false);
        }
    }
}
