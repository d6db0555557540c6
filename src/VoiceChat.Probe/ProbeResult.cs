using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace VoiceChat.Probe;

/// <summary>Why a probe run failed; the names in <c>--json</c> output are the snake_case forms.</summary>
internal enum ProbeFailure
{
    None,

    /// <summary>The URL answers HTTP but does not upgrade to a WebSocket, or the WebSocket does not speak the protocol.</summary>
    NotVoiceEndpoint,

    /// <summary>HTTP 401: no token, or a token the server refuses.</summary>
    Unauthorized,

    /// <summary>HTTP 403: the caller, or its Origin, is refused.</summary>
    Forbidden,

    /// <summary>HTTP 429 or 5xx: the service is there but not taking connections.</summary>
    Unavailable,

    /// <summary>The host name does not resolve.</summary>
    NameResolution,

    /// <summary>No TCP connection (refused, unreachable, reset before an HTTP answer).</summary>
    Connect,

    /// <summary>The TLS handshake failed.</summary>
    Tls,

    /// <summary>The run's time bound passed.</summary>
    Timeout,

    /// <summary>The server sent an <c>error</c> message.</summary>
    ServerError,

    /// <summary>The connection or the session ended before the turn did.</summary>
    Closed,

    /// <summary>The model's turn completed without audio.</summary>
    NoAudio,
}

/// <summary>A transcript as the client shows it: fragments joined, or the final text.</summary>
internal sealed record ProbeTranscript(string Role, string Text);

/// <summary>What one probe run saw, filled in as it goes; a failed run keeps what it saw before failing.</summary>
internal sealed class ProbeResult(Uri url)
{
    public Uri Url { get; } = url;

    public ProbeFailure Failure { get; private set; }

    /// <summary>What failed, in an operator's words; <see langword="null"/> when the turn completed.</summary>
    public string? Message { get; private set; }

    public bool Succeeded => Failure == ProbeFailure.None && TurnCompleted;

    /// <summary>0 for a completed turn, 3 when authentication or authorization was refused, 1 for any other failure.</summary>
    public int ExitCode => Succeeded ? 0 : Failure is ProbeFailure.Unauthorized or ProbeFailure.Forbidden ? 3 : 1;

    public bool TurnCompleted { get; set; }

    /// <summary>The status of an HTTP answer that was not an upgrade.</summary>
    public int? HttpStatus { get; set; }

    public string? Utterance { get; set; }

    public TimeSpan? ConnectTime { get; set; }

    public string? SessionId { get; set; }

    public int OutputSampleRate { get; set; } = 24000;

    public List<ProbeTranscript> Transcripts { get; } = [];

    public long AudioBytes { get; set; }

    public int AudioFrames { get; set; }

    public double AudioSeconds => AudioBytes / 2.0 / OutputSampleRate;

    /// <summary>From the end of the utterance (or the typed turn) to the first byte of model audio.</summary>
    public TimeSpan? TimeToFirstAudio { get; set; }

    /// <summary>The code of an <c>error</c> message from the server.</summary>
    public string? ErrorCode { get; set; }

    public int? CloseStatus { get; set; }

    public TimeSpan Elapsed { get; set; }

    /// <summary>Records the first failure; later ones are consequences of it.</summary>
    public ProbeResult Fail(ProbeFailure failure, string message)
    {
        if (Failure == ProbeFailure.None)
        {
            Failure = failure;
            Message = message;
        }

        return this;
    }

    public string ToText()
    {
        var text = new StringBuilder();
        void Line(FormattableString line) => text.AppendLine(line.ToString(CultureInfo.InvariantCulture));
        Line($"voicechat-probe: {Url}");
        if (ConnectTime is { } connect)
        {
            Line($"  WebSocket connected in {connect.TotalSeconds:0.00} s");
        }

        if (SessionId is not null)
        {
            Line($"  session_started: session {SessionId}");
        }

        if (Utterance is not null && SessionId is not null)
        {
            Line($"  said: {Utterance}");
        }

        foreach (var transcript in Transcripts)
        {
            Line($"  transcript ({transcript.Role}): {transcript.Text}");
        }

        if (SessionId is not null)
        {
            Line($"  audio received: {AudioSeconds:0.00} s ({AudioBytes} bytes in {AudioFrames} frames at {OutputSampleRate} Hz)");
        }

        if (TimeToFirstAudio is { } first)
        {
            Line($"  time to first audio: {first.TotalSeconds:0.00} s after the utterance ended");
        }

        if (Succeeded)
        {
            Line($"OK: a full voice turn completed in {Elapsed.TotalSeconds:0.0} s");
        }
        else
        {
            Line($"FAILED: {Message}");
        }

        return text.ToString();
    }

    public string ToJson()
    {
        using var stream = new MemoryStream();
        // Read by people and scripts, never embedded in HTML: quotes and accents stay as they are.
        using (var json = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            json.WriteStartObject();
            json.WriteString("url", Url.ToString());
            json.WriteBoolean("ok", Succeeded);
            WriteOrNull(json, "failure", Failure == ProbeFailure.None ? null : JsonNamingPolicy.SnakeCaseLower.ConvertName(Failure.ToString()));
            WriteOrNull(json, "message", Message);
            WriteOrNull(json, "http_status", HttpStatus);
            WriteOrNull(json, "error_code", ErrorCode);
            WriteOrNull(json, "close_status", CloseStatus);
            WriteOrNull(json, "session_id", SessionId);
            WriteOrNull(json, "utterance", Utterance);
            json.WriteStartArray("transcripts");
            foreach (var transcript in Transcripts)
            {
                json.WriteStartObject();
                json.WriteString("role", transcript.Role);
                json.WriteString("text", transcript.Text);
                json.WriteEndObject();
            }

            json.WriteEndArray();
            json.WriteNumber("audio_bytes", AudioBytes);
            json.WriteNumber("audio_frames", AudioFrames);
            json.WriteNumber("audio_seconds", Math.Round(AudioSeconds, 3));
            json.WriteNumber("output_sample_rate", OutputSampleRate);
            WriteOrNull(json, "connect_seconds", Seconds(ConnectTime));
            WriteOrNull(json, "time_to_first_audio_seconds", Seconds(TimeToFirstAudio));
            json.WriteNumber("elapsed_seconds", Math.Round(Elapsed.TotalSeconds, 3));
            json.WriteEndObject();
        }

        return Encoding.UTF8.GetString(stream.ToArray());
    }

    private static double? Seconds(TimeSpan? value) => value is { } v ? Math.Round(v.TotalSeconds, 3) : null;

    private static void WriteOrNull(Utf8JsonWriter json, string name, string? value)
    {
        if (value is null)
        {
            json.WriteNull(name);
        }
        else
        {
            json.WriteString(name, value);
        }
    }

    private static void WriteOrNull(Utf8JsonWriter json, string name, double? value)
    {
        if (value is { } number)
        {
            json.WriteNumber(name, number);
        }
        else
        {
            json.WriteNull(name);
        }
    }
}
