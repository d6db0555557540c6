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

    /// <summary>How long a client has to send a valid <c>start_session</c>. Default 5 s: a connection waiting for it holds one of <see cref="MaxPendingConnections"/>.</summary>
    public TimeSpan StartTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How long a started session may receive nothing from its client before it is closed. Default 60 s.</summary>
    public TimeSpan IdleTimeout { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>The longest a session may last. Default 3600 s, Cloud Run's longest request.</summary>
    public TimeSpan MaxSessionDuration { get; set; } = TimeSpan.FromSeconds(3600);

    /// <summary>The most started sessions one process runs at once. Default 1000, Cloud Run's highest concurrency. A further <c>start_session</c> is refused with <c>server_busy</c>.</summary>
    public int MaxConcurrentSessions { get; set; } = 1000;

    /// <summary>
    /// The most connections one process holds that have not started a session yet. Default 100. A
    /// further upgrade is refused with HTTP 503 before it becomes a WebSocket. They do not count
    /// against <see cref="MaxConcurrentSessions"/> until they start.
    /// </summary>
    public int MaxPendingConnections { get; set; } = 100;

    /// <summary>The most sessions one user runs at once in this process. Default 3. A further <c>start_session</c> of that user is refused with <c>too_many_sessions</c>.</summary>
    public int MaxSessionsPerUser { get; set; } = 3;

    /// <summary>
    /// How many sessions one caller may start per minute, for the rate limiting policy of
    /// <c>RateLimiterOptions.AddVoiceChatPolicy</c> (VoiceChat.AspNetCore): per user when the
    /// request is authenticated, otherwise per client IP address. Default 10.
    /// </summary>
    public int MaxSessionStartsPerMinute { get; set; } = 10;

    /// <summary>
    /// How many sessions may be started per minute from one client IP address, by all its users
    /// together, for the same policy. Default 60: a mobile carrier's NAT puts many users behind one address.
    /// </summary>
    public int MaxSessionStartsPerMinutePerAddress { get; set; } = 60;

    /// <summary>
    /// Origins (<c>https://app.example.com</c>) whose web pages may open sessions, besides the host's
    /// own origin. Default none: only pages of the host itself, and clients that send no <c>Origin</c>
    /// header (native apps). <c>*</c> allows every origin. A page of another origin gets HTTP 403.
    /// </summary>
    public IList<string> AllowedOrigins { get; set; } = [];

    /// <summary>
    /// How much microphone audio a client may send ahead of real time, in seconds of audio at the
    /// session's input sample rate. Default 5 s. Audio beyond it is dropped with the error
    /// <c>rate_limited</c>; when the dropped audio outgrows this allowance too the session ends.
    /// </summary>
    public TimeSpan MaxAudioAheadOfRealTime { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// The most <c>text</c> messages a session may send per minute. Default 20. Further ones are
    /// dropped with the error <c>rate_limited</c>; when as many again are dropped the session ends.
    /// </summary>
    public int MaxTextMessagesPerMinute { get; set; } = 20;

    /// <summary>
    /// The largest image a <c>video_frame</c> may carry, in bytes (decoded). Default 256 KiB. A larger one
    /// is dropped with the error <c>video_frame_too_large</c>; a session that declared video accepts text
    /// frames of up to twice this size, beyond which the frame ends the session (<c>frame_too_large</c>).
    /// </summary>
    public int MaxVideoFrameBytes { get; set; } = 256 * 1024;

    /// <summary>
    /// The most video frames a session forwards per second. Default 1, the rate the Live API samples video at.
    /// Faster frames are dropped (the client hears <c>video_frames_dropped</c> once); the session goes on.
    /// Zero refuses video: <c>start_session</c> with <c>video</c> starts an audio-only session.
    /// </summary>
    public double MaxVideoFramesPerSecond { get; set; } = 1;

    /// <summary>
    /// How long one send to the client may take before the server gives up on the client, drops the
    /// connection and frees its session and model connection (a client that does not read). Default 10 s.
    /// </summary>
    public TimeSpan SendTimeout { get; set; } = TimeSpan.FromSeconds(10);

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

    /// <summary>How a session survives its client connection: the resume window, the replay buffer, shared state.</summary>
    public ResumeOptions Resume { get; set; } = new();

    /// <summary>How session events reach the app's <see cref="IVoiceSessionEventHandler"/>s (section <c>VoiceChat:Events</c>).</summary>
    public SessionEventOptions Events { get; set; } = new();
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
