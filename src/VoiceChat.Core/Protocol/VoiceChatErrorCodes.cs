namespace VoiceChat;

/// <summary>
/// The <c>code</c> values of the client protocol's <c>error</c> message (docs/protocol.md).
/// </summary>
public static class VoiceChatErrorCodes
{
    /// <summary>A text frame is not a JSON object. Not fatal.</summary>
    public const string InvalidJson = "invalid_json";

    /// <summary><c>type</c> is missing or unknown. Not fatal.</summary>
    public const string UnknownType = "unknown_type";

    /// <summary>A required field is missing, or a field has the wrong type or value. Not fatal.</summary>
    public const string InvalidMessage = "invalid_message";

    /// <summary>A message other than <c>start_session</c> before the session started. Not fatal.</summary>
    public const string NotStarted = "not_started";

    /// <summary>A second <c>start_session</c>. Not fatal.</summary>
    public const string AlreadyStarted = "already_started";

    /// <summary><c>user_id</c> differs from the authenticated user. Not fatal.</summary>
    public const string UserMismatch = "user_mismatch";

    /// <summary><c>input_sample_rate</c> is not one of the allowed rates. Not fatal.</summary>
    public const string UnsupportedSampleRate = "unsupported_sample_rate";

    /// <summary>An audio frame with an odd length or bad base64; the frame is dropped. Not fatal.</summary>
    public const string InvalidAudio = "invalid_audio";

    /// <summary>An activity signal while the server detects activity itself. Not fatal.</summary>
    public const string ActivityDetectionAutomatic = "activity_detection_automatic";

    /// <summary>A frame over the size limit. Fatal, close 1009.</summary>
    public const string FrameTooLarge = "frame_too_large";

    /// <summary>No valid <c>start_session</c> in time. Fatal, close 4001.</summary>
    public const string StartTimeout = "start_timeout";

    /// <summary>Nothing received from the client for the idle timeout. Fatal, close 4002.</summary>
    public const string IdleTimeout = "idle_timeout";

    /// <summary>The session reached its maximum duration. Fatal, close 4003.</summary>
    public const string MaxDuration = "max_duration";

    /// <summary>The server runs its maximum number of sessions. Fatal, close 4004.</summary>
    public const string ServerBusy = "server_busy";

    /// <summary>The model service cannot be reached or the conversation could not be resumed. Fatal, close 4005.</summary>
    public const string UpstreamUnavailable = "upstream_unavailable";

    /// <summary>The server's credentials were refused by the model service. Fatal, close 4006.</summary>
    public const string UpstreamAuthFailed = "upstream_auth_failed";

    /// <summary>The configured model does not exist or does not support live sessions. Fatal, close 4007.</summary>
    public const string ModelNotFound = "model_not_found";

    /// <summary>The model service refused the configuration or a message. Fatal, close 4008.</summary>
    public const string UpstreamInvalidArgument = "upstream_invalid_argument";

    /// <summary>The model service is not available in the server's region. Fatal, close 4009.</summary>
    public const string LocationNotSupported = "location_not_supported";

    /// <summary>The quota at the model service is exhausted. Fatal, close 4010.</summary>
    public const string QuotaExhausted = "quota_exhausted";

    /// <summary>The model service failed and the conversation could not be resumed. Fatal, close 4011.</summary>
    public const string UpstreamInternal = "upstream_internal";

    /// <summary>The model service did not answer in time. Fatal, close 4012.</summary>
    public const string UpstreamTimeout = "upstream_timeout";

    /// <summary>A fault in the server itself. Fatal, close 1011.</summary>
    public const string InternalError = "internal_error";

    /// <summary>
    /// Audio faster than real time beyond the allowance, or text messages beyond their rate: the
    /// excess is dropped (not fatal); a client that keeps on is closed (fatal, close 4013).
    /// </summary>
    public const string RateLimited = "rate_limited";

    /// <summary>The user already runs the most sessions one user may. Fatal, close 4014.</summary>
    public const string TooManySessions = "too_many_sessions";

    /// <summary>
    /// A <c>video_frame</c> that is not a JPEG or PNG image: an unknown <c>mime_type</c>, bytes that do
    /// not start as that type does, or <c>data</c> that is not base64. The frame is dropped. Not fatal.
    /// </summary>
    public const string InvalidVideoFrame = "invalid_video_frame";

    /// <summary>A <c>video_frame</c> whose image is over the video frame limit; the frame is dropped. Not fatal.</summary>
    public const string VideoFrameTooLarge = "video_frame_too_large";

    /// <summary>
    /// A <c>video_frame</c> in a session that did not declare <c>video</c> in <c>start_session</c>, or on a
    /// server that takes no video; the frame is dropped. Not fatal.
    /// </summary>
    public const string VideoNotEnabled = "video_not_enabled";

    /// <summary>
    /// Video frames arrive faster than the server's frame rate: the excess is dropped, and the client is
    /// told once per session. Never fatal.
    /// </summary>
    public const string VideoFramesDropped = "video_frames_dropped";
}

/// <summary>The WebSocket close codes of the client protocol (docs/protocol.md).</summary>
public static class VoiceChatCloseCodes
{
    /// <summary>Normal closure, after <c>session_ended</c>.</summary>
    public const int Normal = 1000;

    /// <summary>The server is shutting down, after <c>going_away</c>.</summary>
    public const int GoingAway = 1001;

    /// <summary>Policy violation: not authorised.</summary>
    public const int PolicyViolation = 1008;

    /// <summary>A frame over the size limit.</summary>
    public const int MessageTooBig = 1009;

    /// <summary>An internal server fault.</summary>
    public const int InternalError = 1011;

    /// <summary>No valid <c>start_session</c> within the start timeout.</summary>
    public const int StartTimeout = 4001;

    /// <summary>Nothing received from the client for the idle timeout.</summary>
    public const int IdleTimeout = 4002;

    /// <summary>The session reached its maximum duration.</summary>
    public const int MaxDuration = 4003;

    /// <summary>The server runs its maximum number of sessions.</summary>
    public const int ServerBusy = 4004;

    /// <summary>The model service cannot be reached or the conversation could not be resumed.</summary>
    public const int UpstreamUnavailable = 4005;

    /// <summary>The server's credentials were refused by the model service.</summary>
    public const int UpstreamAuthFailed = 4006;

    /// <summary>The configured model does not exist or does not support live sessions.</summary>
    public const int ModelNotFound = 4007;

    /// <summary>The model service refused the configuration or a message.</summary>
    public const int UpstreamInvalidArgument = 4008;

    /// <summary>The model service is not available in the server's region.</summary>
    public const int LocationNotSupported = 4009;

    /// <summary>The quota at the model service is exhausted.</summary>
    public const int QuotaExhausted = 4010;

    /// <summary>The model service failed and the conversation could not be resumed.</summary>
    public const int UpstreamInternal = 4011;

    /// <summary>The model service did not answer in time.</summary>
    public const int UpstreamTimeout = 4012;

    /// <summary>The client kept sending faster than its limits allow.</summary>
    public const int RateLimited = 4013;

    /// <summary>The user already runs the most sessions one user may.</summary>
    public const int TooManySessions = 4014;

    /// <summary>The close code that follows a fatal error with the given code.</summary>
    /// <param name="errorCode">One of <see cref="VoiceChatErrorCodes"/>.</param>
    public static int ForError(string errorCode) => errorCode switch
    {
        VoiceChatErrorCodes.FrameTooLarge => MessageTooBig,
        VoiceChatErrorCodes.StartTimeout => StartTimeout,
        VoiceChatErrorCodes.IdleTimeout => IdleTimeout,
        VoiceChatErrorCodes.MaxDuration => MaxDuration,
        VoiceChatErrorCodes.ServerBusy => ServerBusy,
        VoiceChatErrorCodes.UpstreamUnavailable => UpstreamUnavailable,
        VoiceChatErrorCodes.UpstreamAuthFailed => UpstreamAuthFailed,
        VoiceChatErrorCodes.ModelNotFound => ModelNotFound,
        VoiceChatErrorCodes.UpstreamInvalidArgument => UpstreamInvalidArgument,
        VoiceChatErrorCodes.LocationNotSupported => LocationNotSupported,
        VoiceChatErrorCodes.QuotaExhausted => QuotaExhausted,
        VoiceChatErrorCodes.UpstreamInternal => UpstreamInternal,
        VoiceChatErrorCodes.UpstreamTimeout => UpstreamTimeout,
        VoiceChatErrorCodes.RateLimited => RateLimited,
        VoiceChatErrorCodes.TooManySessions => TooManySessions,
        _ => InternalError,
    };
}
