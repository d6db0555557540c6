using VoiceChat.Live;

namespace VoiceChat.Protocol;

/// <summary>The kinds of text message a client sends (docs/protocol.md).</summary>
internal enum ClientMessageKind
{
    StartSession,
    Audio,
    Text,
    ActivityStart,
    ActivityEnd,
    AudioStreamEnd,
    EndSession,
    Ping,

    /// <summary>The client's count of sequenced server messages it has received (resumable sessions).</summary>
    Ack,

    /// <summary>One camera frame or picture (JPEG or PNG) for the model to look at.</summary>
    VideoFrame,
}

/// <summary>The fields of <c>start_session</c>.</summary>
internal sealed record StartSessionMessage(
    string? UserId,
    string? SessionId,
    string? ResumeToken,
    string? Voice,
    string? Language,
    int InputSampleRate,
    IReadOnlyDictionary<string, string> Metadata,
    long? Received = null,
    bool Video = false);

/// <summary>
/// One decoded client text message, or the protocol error it caused. A struct: the audio message
/// (base64 for clients without binary frames) stays allocation-free but for its pooled buffer.
/// </summary>
internal readonly struct ClientMessage
{
    public ClientMessageKind Kind { get; init; }

    /// <summary>Set when the message was rejected: one of <see cref="VoiceChatErrorCodes"/>.</summary>
    public string? ErrorCode { get; init; }

    public string? ErrorMessage { get; init; }

    public StartSessionMessage? Start { get; init; }

    /// <summary>Decoded audio of an <c>audio</c> message; the receiver returns it.</summary>
    public PooledAudio Audio { get; init; }

    /// <summary>Decoded image of a <c>video_frame</c> message; the receiver returns it.</summary>
    public PooledAudio Image { get; init; }

    /// <summary>The image type of a <c>video_frame</c> (<c>image/jpeg</c> or <c>image/png</c>), checked against its bytes.</summary>
    public string? MimeType { get; init; }

    /// <summary>The text of a <c>text</c> message, or the id of a <c>ping</c>.</summary>
    public string? Text { get; init; }

    /// <summary>The <c>received</c> count of an <c>ack</c>.</summary>
    public long Received { get; init; }

    public bool IsError => ErrorCode is not null;

    public static ClientMessage Failure(string code, string message) => new() { ErrorCode = code, ErrorMessage = message };
}
