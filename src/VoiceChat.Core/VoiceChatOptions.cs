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

    /// <summary>The upstream model service.</summary>
    public GeminiOptions Gemini { get; set; } = new();

    /// <summary>How a session survives its client connection: the resume window, the replay buffer, shared state.</summary>
    public ResumeOptions Resume { get; set; } = new();
}

/// <summary>
/// How sessions outlive a dropped client connection (section <c>VoiceChat:Resume</c>;
/// docs/protocol.md, "Resuming a session", describes the exchange).
/// </summary>
public sealed class ResumeOptions
{
    /// <summary>
    /// How long a session whose client connection dropped without <c>end_session</c> is kept, with its
    /// model connection open and the model's output buffered, waiting for the client to resume it.
    /// Default 30 s; zero ends a session with its connection.
    /// </summary>
    public TimeSpan Window { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// The most bytes of server messages a session keeps for replay (what the client has not acknowledged,
    /// and everything produced while no client is connected). Default 2 MiB. Past it the oldest are
    /// dropped, and a resume replays from later than the client asked (<c>replay_from</c> says from where).
    /// </summary>
    public int BufferBytes { get; set; } = 2 * 1024 * 1024;

    /// <summary>
    /// How often, at most, the server tells a counting client how many of its messages arrived (<c>ack</c>).
    /// Default 250 ms.
    /// </summary>
    public TimeSpan AckInterval { get; set; } = TimeSpan.FromMilliseconds(250);

    /// <summary>
    /// A StackExchange.Redis configuration string (for example <c>10.0.0.3:6379</c> for Memorystore).
    /// When set, each session's latest model resumption handle, settled setup and user are kept in
    /// Redis, so a client that comes back to another instance resumes the same model conversation
    /// there, and the Data Protection keys are shared so tickets work on every instance. Unset: resume
    /// works on the same instance only.
    /// </summary>
    public string? Redis { get; set; }
}
