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

    /// <summary>The model id, without <c>models/</c> or a Vertex path. Default <c>gemini-2.5-flash-native-audio-preview-12-2025</c>.</summary>
    public string Model { get; set; } = "gemini-2.5-flash-native-audio-preview-12-2025";

    /// <summary>The voice (for example <c>Puck</c>, <c>Kore</c>); a client's <c>voice</c> overrides it. Default: the model's own.</summary>
    public string? Voice { get; set; }

    /// <summary>A BCP-47 language code for speech; a client's <c>language</c> overrides it. Default: the model's choice.</summary>
    public string? Language { get; set; }

    /// <summary>The system instruction sent with every session.</summary>
    public string? SystemInstruction { get; set; }

    /// <summary>How user speech is detected. Default <see cref="ActivityDetectionMode.Automatic"/>.</summary>
    public ActivityDetectionMode ActivityDetection { get; set; } = ActivityDetectionMode.Automatic;

    /// <summary>How long to wait for <c>setupComplete</c> after sending <c>setup</c>. Default 15 s.</summary>
    public TimeSpan SetupTimeout { get; set; } = TimeSpan.FromSeconds(15);
}
