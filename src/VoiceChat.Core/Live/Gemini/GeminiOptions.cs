namespace VoiceChat;

/// <summary>Which Google endpoint serves the Gemini Live API.</summary>
public enum GeminiBackend
{
    /// <summary>The Gemini Developer API (generativelanguage.googleapis.com), authenticated with an API key.</summary>
    DeveloperApi,

    /// <summary>Vertex AI, authenticated with Google credentials (Application Default Credentials by default).</summary>
    VertexAI,
}

/// <summary>How the start and end of the user's speech are detected.</summary>
public enum ActivityDetectionMode
{
    /// <summary>The model detects speech itself (voice activity detection on the service).</summary>
    Automatic,

    /// <summary>The client says when the user speaks with <c>activity_start</c> / <c>activity_end</c> (push-to-talk).</summary>
    Manual,
}

/// <summary>How readily the service's voice activity detection decides that speech started or ended.</summary>
public enum SpeechSensitivity
{
    /// <summary>The service's default.</summary>
    Default,

    /// <summary>Detects more readily (shorter or quieter sounds count).</summary>
    High,

    /// <summary>Detects less readily.</summary>
    Low,
}

/// <summary>How much detail the model takes from each video frame (<c>generationConfig.mediaResolution</c>); more detail costs more tokens.</summary>
public enum MediaResolution
{
    /// <summary>The service's default; nothing is sent.</summary>
    Default,

    /// <summary><c>MEDIA_RESOLUTION_LOW</c>: the fewest tokens per frame.</summary>
    Low,

    /// <summary><c>MEDIA_RESOLUTION_MEDIUM</c>.</summary>
    Medium,

    /// <summary><c>MEDIA_RESOLUTION_HIGH</c>: the most detail (small print on a menu).</summary>
    High,
}

/// <summary>Which realtime input makes up a user turn (<c>realtimeInputConfig.turnCoverage</c>).</summary>
public enum TurnCoverage
{
    /// <summary>The service's default (only what arrives during detected activity); nothing is sent.</summary>
    Default,

    /// <summary><c>TURN_INCLUDES_ONLY_ACTIVITY</c>: the turn holds only input sent while the user speaks.</summary>
    OnlyActivity,

    /// <summary><c>TURN_INCLUDES_ALL_INPUT</c>: the turn holds all input since the last turn, frames sent in silence included.</summary>
    AllInput,

    /// <summary><c>TURN_INCLUDES_AUDIO_ACTIVITY_AND_ALL_VIDEO</c>: audio while the user speaks, and every video frame since the last turn.</summary>
    AudioActivityAndAllVideo,
}

/// <summary>The connection to Gemini Live, bound from the configuration section <c>VoiceChat:Gemini</c>.</summary>
public sealed class GeminiOptions
{
    /// <summary>Developer API or Vertex AI. Default <see cref="GeminiBackend.DeveloperApi"/>.</summary>
    public GeminiBackend Backend { get; set; } = GeminiBackend.DeveloperApi;

    /// <summary>The Developer API key. Never logged, never sent to clients.</summary>
    public string? ApiKey { get; set; }

    /// <summary>
    /// The service's base URL (scheme and host, optionally a path), for the emulator or a private endpoint.
    /// <c>http</c>/<c>https</c> become <c>ws</c>/<c>wss</c>. Default: Google's endpoint for the backend.
    /// </summary>
    public Uri? BaseUrl { get; set; }

    /// <summary>
    /// The API version in the endpoint path. Default <c>v1beta</c> (Developer API) or <c>v1beta1</c> (Vertex AI).
    /// The Developer API needs <c>v1alpha</c> for <see cref="EnableAffectiveDialog"/> and <see cref="ProactiveAudio"/>.
    /// </summary>
    public string? ApiVersion { get; set; }

    /// <summary>Vertex AI: the Google Cloud project. Default: the environment variable <c>GOOGLE_CLOUD_PROJECT</c>.</summary>
    public string? Project { get; set; }

    /// <summary>
    /// Vertex AI: the location (region, or <c>global</c>). Default: the environment variable
    /// <c>GOOGLE_CLOUD_LOCATION</c>, else <c>us-central1</c>.
    /// </summary>
    public string? Location { get; set; }

    /// <summary>
    /// Vertex AI: a JSON credential file (service account key, user or external account credentials).
    /// Default: Application Default Credentials.
    /// </summary>
    public string? CredentialsFile { get; set; }

    /// <summary>
    /// The model id, without <c>models/</c> or a Vertex path. Default: the newest generally available native-audio
    /// Live model, <c>gemini-3.8-live</c>, on both backends (pin <c>gemini-2.5-flash-native-audio-preview-12-2025</c> or
    /// <c>gemini-live-2.5-flash-native-audio</c> to keep the Gemini 2.5 behaviour).
    /// The options are checked at start-up against what a known model accepts; an unknown model id is used unchecked (with a warning).
    /// </summary>
    public string? Model { get; set; }

    /// <summary>
    /// The voice (for example <c>Puck</c>, <c>Kore</c>); a client's <c>voice</c> overrides it. Default: the model's own.
    /// Checked against a known model's voices at start-up, and the session's voice when a session starts.
    /// </summary>
    public string? Voice { get; set; }

    /// <summary>
    /// A BCP-47 language code for speech; a client's <c>language</c> overrides it. Default: the model's choice.
    /// Native-audio models choose the language themselves and ignore it (a warning at start-up says so).
    /// </summary>
    public string? Language { get; set; }

    /// <summary>The system instruction sent with every session (a session hook may replace it per session).</summary>
    public string? SystemInstruction { get; set; }

    /// <summary>Sampling temperature. Default: the model's.</summary>
    public double? Temperature { get; set; }

    /// <summary>Nucleus sampling. Default: the model's.</summary>
    public double? TopP { get; set; }

    /// <summary>Top-k sampling. Default: the model's.</summary>
    public int? TopK { get; set; }

    /// <summary>The most tokens in one model turn. Default: the model's.</summary>
    public int? MaxOutputTokens { get; set; }

    /// <summary>
    /// Gemini 2.5 native-audio models: the thinking token budget (0 turns thinking off, -1 lets the model decide).
    /// Refused at start-up for a known model that takes no budget (Gemini 3.x, half-cascade models).
    /// </summary>
    public int? ThinkingBudget { get; set; }

    /// <summary>
    /// Gemini 3.x models that take one: the thinking level (<c>MINIMAL</c>, <c>LOW</c>, <c>MEDIUM</c>, <c>HIGH</c>; sent upper-cased).
    /// Refused at start-up for a known model that takes no level, or a level the model does not accept.
    /// </summary>
    public string? ThinkingLevel { get; set; }

    /// <summary>
    /// Gemini 2.5 native-audio models: affective dialog. Default off. Never sent to Gemini 3 models; refused at start-up
    /// for a known model without it. The Developer API needs <see cref="ApiVersion"/> <c>v1alpha</c> for it.
    /// </summary>
    public bool EnableAffectiveDialog { get; set; }

    /// <summary>
    /// Gemini 2.5 native-audio models: proactive audio (the model may stay silent). Default off. Never sent to Gemini 3 models
    /// (on <c>gemini-3.8-live</c> it is always on); refused at start-up for a known model without it.
    /// The Developer API needs <see cref="ApiVersion"/> <c>v1alpha</c> for it.
    /// </summary>
    public bool ProactiveAudio { get; set; }

    /// <summary>How user speech is detected. Default <see cref="ActivityDetectionMode.Automatic"/>.</summary>
    public ActivityDetectionMode ActivityDetection { get; set; } = ActivityDetectionMode.Automatic;

    /// <summary>Automatic detection: how readily speech is considered started. Default: the service's.</summary>
    public SpeechSensitivity StartOfSpeechSensitivity { get; set; }

    /// <summary>Automatic detection: how readily speech is considered ended. Default: the service's.</summary>
    public SpeechSensitivity EndOfSpeechSensitivity { get; set; }

    /// <summary>Automatic detection: audio kept before detected speech, in milliseconds. Default: the service's.</summary>
    public int? PrefixPaddingMs { get; set; }

    /// <summary>Automatic detection: the silence that ends speech, in milliseconds. Default: the service's.</summary>
    public int? SilenceDurationMs { get; set; }

    /// <summary>Whether the user speaking interrupts the model (barge-in). Default true.</summary>
    public bool InterruptOnSpeech { get; set; } = true;

    /// <summary>Transcribe the user's speech (<c>transcript</c> messages with role <c>user</c>). Default true.</summary>
    public bool InputTranscription { get; set; } = true;

    /// <summary>Transcribe the model's speech (<c>transcript</c> messages with role <c>assistant</c>). Default true.</summary>
    public bool OutputTranscription { get; set; } = true;

    /// <summary>
    /// How much detail the model takes from each video frame. Default <see cref="MediaResolution.Default"/> (the service's).
    /// </summary>
    public MediaResolution MediaResolution { get; set; }

    /// <summary>
    /// Which input makes up a user turn; <see cref="TurnCoverage.AllInput"/> lets frames sent while the user is silent
    /// count. Default <see cref="TurnCoverage.Default"/> (the service's, only input during activity).
    /// </summary>
    public TurnCoverage TurnCoverage { get; set; }

    /// <summary>
    /// Context window compression (a sliding window), which lifts the 15-minute limit of audio sessions. Default true.
    /// Sessions that declare video always have it: without it the service ends audio and video sessions after 2 minutes.
    /// </summary>
    public bool ContextWindowCompression { get; set; } = true;

    /// <summary>Compression: the context size in tokens that triggers compression. Default: the service's.</summary>
    public int? CompressionTriggerTokens { get; set; }

    /// <summary>How long to wait for <c>setupComplete</c> after sending <c>setup</c> (connection included). Default 15 s.</summary>
    public TimeSpan SetupTimeout { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>
    /// How often a WebSocket ping goes to the service, so that a connection that died without a word
    /// (a dropped network path, a stalled proxy) is noticed while the client is quiet too; see
    /// <see cref="KeepAliveTimeout"/>. Default 15 s; zero turns keep-alive off.
    /// </summary>
    public TimeSpan KeepAliveInterval { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>
    /// How long after a ping the connection to the service may stay silent (no pong, no message,
    /// nothing) before it counts as lost, and is resumed as any lost connection is. Default 30 s: the
    /// service's pongs have been seen to take many seconds. Zero waits for nothing: the keep-alive is
    /// then an unsolicited pong, sent while nothing else is.
    /// </summary>
    public TimeSpan KeepAliveTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// How many times in a row a lost connection is resumed before the session gives up. Default 5;
    /// the count starts again after each successful reconnection. Zero turns resumption after failures off
    /// (rotation on the service's <c>goAway</c> still happens).
    /// </summary>
    public int MaxReconnectAttempts { get; set; } = 5;

    /// <summary>The delay before the second reconnection attempt; it doubles with every further attempt (up to 10 s). The first attempt is immediate. Default 250 ms.</summary>
    public TimeSpan ReconnectDelay { get; set; } = TimeSpan.FromMilliseconds(250);

    /// <summary>
    /// How much microphone audio is kept while the connection is being replaced, replayed once it is back.
    /// Default 30 s; beyond it the oldest audio is dropped (and a warning logged).
    /// </summary>
    public TimeSpan ReconnectAudioBuffer { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How long one tool call may run before it is cancelled and answered with an error. Default 30 s.</summary>
    public TimeSpan ToolTimeout { get; set; } = TimeSpan.FromSeconds(30);
}
