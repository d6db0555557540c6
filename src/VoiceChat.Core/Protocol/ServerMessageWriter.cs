using System.Text.Encodings.Web;
using System.Text.Json;
using VoiceChat.Buffers;

namespace VoiceChat.Protocol;

/// <summary>
/// Writes the server's text messages (docs/protocol.md) into a pooled buffer. One per session, used
/// under the session's send lock; the returned memory is valid until the next write or <see cref="Release"/>.
/// </summary>
internal sealed class ServerMessageWriter : IDisposable
{
    public const int OutputSampleRate = 24000;

    // Transcripts carry any language: write them as UTF-8 rather than \u escapes. The output is
    // a WebSocket text frame, never HTML.
    private static readonly JsonWriterOptions WriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private readonly PooledBufferWriter _buffer = new(1024);
    private readonly Utf8JsonWriter _json;

    public ServerMessageWriter()
    {
        _json = new Utf8JsonWriter(_buffer, WriterOptions);
    }

    public static ReadOnlyMemory<byte> Interrupted { get; } = """{"type":"interrupted"}"""u8.ToArray();

    public static ReadOnlyMemory<byte> TurnComplete { get; } = """{"type":"turn_complete"}"""u8.ToArray();

    public ReadOnlyMemory<byte> SessionStarted(string sessionId, string resumeToken, int inputSampleRate, in SessionResume resume, double? videoFramesPerSecond = null)
    {
        Begin("session_started"u8);
        _json.WriteString("session_id"u8, sessionId);
        _json.WriteString("resume_token"u8, resumeToken);
        _json.WriteNumber("input_sample_rate"u8, inputSampleRate);
        _json.WriteNumber("output_sample_rate"u8, OutputSampleRate);
        _json.WriteBoolean("resumed"u8, resume.Resumed);
        if (resume.Resumed)
        {
            _json.WriteNumber("received"u8, resume.Received);
            _json.WriteNumber("replay_from"u8, resume.ReplayFrom);
        }
        else if (resume.FailedReason is not null)
        {
            _json.WriteString("resume_failed"u8, resume.FailedReason);
        }

        if (videoFramesPerSecond is { } fps)
        {
            _json.WriteNumber("video_frames_per_second"u8, fps);
        }

        return End();
    }

    public ReadOnlyMemory<byte> Ack(long received)
    {
        Begin("ack"u8);
        _json.WriteNumber("received"u8, received);
        return End();
    }

    public ReadOnlyMemory<byte> Transcript(bool user, string text, bool final)
    {
        Begin("transcript"u8);
        _json.WriteString("role"u8, user ? "user"u8 : "assistant"u8);
        _json.WriteString("text"u8, text);
        _json.WriteBoolean("final"u8, final);
        return End();
    }

    public ReadOnlyMemory<byte> ToolCall(string name, string status, string id = "", bool blocking = true, string? scheduling = null)
    {
        Begin("tool_call"u8);
        _json.WriteString("name"u8, name);
        _json.WriteString("status"u8, status);
        if (id.Length > 0)
        {
            _json.WriteString("id"u8, id);
        }

        _json.WriteBoolean("blocking"u8, blocking);
        if (scheduling is not null)
        {
            _json.WriteString("scheduling"u8, scheduling);
        }

        return End();
    }

    public ReadOnlyMemory<byte> GoingAway(string reason)
    {
        Begin("going_away"u8);
        _json.WriteString("reason"u8, reason);
        return End();
    }

    public ReadOnlyMemory<byte> Error(string code, string message, bool fatal)
    {
        Begin("error"u8);
        _json.WriteString("code"u8, code);
        _json.WriteString("message"u8, message);
        _json.WriteBoolean("fatal"u8, fatal);
        return End();
    }

    public ReadOnlyMemory<byte> SessionEnded(string reason)
    {
        Begin("session_ended"u8);
        _json.WriteString("reason"u8, reason);
        return End();
    }

    public ReadOnlyMemory<byte> Pong(string? id)
    {
        Begin("pong"u8);
        if (id is not null)
        {
            _json.WriteString("id"u8, id);
        }

        return End();
    }

    /// <summary>Gives the buffer back to the pool once the message has been sent.</summary>
    public void Release() => _buffer.Release();

    public void Dispose()
    {
        _json.Dispose();
        _buffer.Dispose();
    }

    private void Begin(ReadOnlySpan<byte> type)
    {
        _buffer.Clear();
        _json.Reset(_buffer);
        _json.WriteStartObject();
        _json.WriteString("type"u8, type);
    }

    private ReadOnlyMemory<byte> End()
    {
        _json.WriteEndObject();
        _json.Flush();
        return _buffer.WrittenMemory;
    }
}

/// <summary>How a <c>session_started</c> relates to an earlier connection (docs/protocol.md, "Resuming").</summary>
/// <param name="Resumed">The conversation of the client's <c>resume_token</c> goes on.</param>
/// <param name="Received">Sequenced client messages the server has received in this conversation.</param>
/// <param name="ReplayFrom">The sequence number of the first server message replayed after this one.</param>
/// <param name="FailedReason">Why a token that was sent did not resume (a fresh session started).</param>
internal readonly record struct SessionResume(bool Resumed, long Received, long ReplayFrom, string? FailedReason)
{
    public static SessionResume Fresh(string? failedReason) => new(false, 0, 0, failedReason);
}
