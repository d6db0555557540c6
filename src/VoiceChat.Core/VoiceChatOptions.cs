namespace VoiceChat;

/// <summary>
/// Options of the voice relay, bound from the configuration section <c>VoiceChat</c>
/// and validated at start-up. docs/configuration.md describes each one.
/// </summary>
public sealed class VoiceChatOptions
{
    /// <summary>The configuration section the options are bound from.</summary>
    public const string SectionName = "VoiceChat";

    /// <summary>The largest client frame accepted, text or binary, in bytes. Default 64 KiB. A larger frame closes the session with 1009.</summary>
    public int MaxFrameBytes { get; set; } = 64 * 1024;

    /// <summary>How long a client has to send a valid <c>start_session</c>. Default 10 s.</summary>
    public TimeSpan StartTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How long a started session may receive nothing from its client before it is closed. Default 60 s.</summary>
    public TimeSpan IdleTimeout { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>The longest a session may last. Default 3600 s, Cloud Run's longest request.</summary>
    public TimeSpan MaxSessionDuration { get; set; } = TimeSpan.FromSeconds(3600);

    /// <summary>The most sessions one process runs at once. Default 1000, Cloud Run's highest concurrency. Further clients are refused with <c>server_busy</c>.</summary>
    public int MaxConcurrentSessions { get; set; } = 1000;

    /// <summary>
    /// How long the server waits for a client to answer its close (after <c>session_ended</c>,
    /// <c>going_away</c> or a fatal <c>error</c>) before it drops the connection. This bounds
    /// graceful shutdown too. Default 5 s (Cloud Run kills the process 10 s after SIGTERM).
    /// </summary>
    public TimeSpan CloseTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How often the server pings an idle client socket. Default 15 s; zero turns keep-alive off.</summary>
    public TimeSpan KeepAliveInterval { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>How long the server waits for the pong to its keep-alive ping before it drops the socket. Default 15 s; zero waits for no pong.</summary>
    public TimeSpan KeepAliveTimeout { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>
    /// Whether clients may open a session without authenticating. Default false: <c>MapVoiceChat</c> then
    /// requires an authenticated user and start-up fails when no authentication is configured. When true,
    /// an anonymous client names itself in <c>user_id</c> and that identity is unverified.
    /// </summary>
    public bool AllowAnonymous { get; set; }

    /// <summary>The upstream model service.</summary>
    public GeminiOptions Gemini { get; set; } = new();
}
