using Microsoft.Extensions.Logging;

namespace VoiceChat.Testing;

/// <summary>
/// How a <see cref="LiveApiEmulator"/> listens and behaves. Listening options are read once at start;
/// every other option is read when a connection, a message or a turn needs it, so a test may change it
/// between connections (or between turns). docs/testing.md describes each one.
/// </summary>
public sealed class LiveApiEmulatorOptions
{
    /// <summary>The model ids the emulator knows, as listed in the Live API reference (Developer API and Vertex AI).</summary>
    public static IReadOnlyList<string> DefaultKnownModels { get; } =
    [
        "gemini-3.8-live",
        "gemini-3.8-live-extended-thinking",
        "gemini-3.1-flash-live-preview",
        "gemini-2.5-flash-native-audio-preview-12-2025",
        "gemini-2.5-flash-native-audio-preview-09-2025",
        "gemini-2.5-flash-native-audio-latest",
        "gemini-live-2.5-flash-preview",
        "gemini-2.0-flash-live-001",
        "gemini-live-2.5-flash-native-audio",
        "gemini-live-2.5-flash-preview-native-audio-09-2025",
        "gemini-live-2.5-flash",
        "gemini-2.0-flash-live-preview-04-09",
    ];

    /// <summary>The address to listen on: an IP address or <c>localhost</c>. Default <c>127.0.0.1</c>.</summary>
    public string Host { get; set; } = "127.0.0.1";

    /// <summary>The port to listen on; 0 picks a free one (read it from <see cref="LiveApiEmulator.BaseUrl"/>). Default 0.</summary>
    public int Port { get; set; }

    /// <summary>Where the emulator writes its logs. Default: no logging.</summary>
    public ILoggerFactory? LoggerFactory { get; set; }

    /// <summary>The clock for every delay, pacing and lifetime. Default <see cref="TimeProvider.System"/>.</summary>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    /// <summary>
    /// The only Developer API key accepted (<c>x-goog-api-key</c> header or <c>?key=</c>). Null accepts any
    /// non-empty key. A missing or different key is refused after the upgrade with close 1007
    /// "API key not valid. Please pass a valid API key.".
    /// </summary>
    public string? ExpectedApiKey { get; set; }

    /// <summary>
    /// The only Vertex AI bearer token accepted (<c>Authorization: Bearer …</c>). Null accepts any non-empty
    /// token. A missing or different token is refused after the upgrade with close 1008 and Google's
    /// "Request had invalid authentication credentials…" text.
    /// </summary>
    public string? ExpectedBearerToken { get; set; }

    /// <summary>Model ids accepted in <c>setup.model</c>; any other closes with 1008 "models/X is not found…". Default <see cref="DefaultKnownModels"/>.</summary>
    public ISet<string> KnownModels { get; } = new HashSet<string>(DefaultKnownModels, StringComparer.Ordinal);

    /// <summary>Send server JSON in text frames instead of binary frames (the Developer API uses binary). Default false.</summary>
    public bool SendTextFrames { get; set; }

    /// <summary>
    /// Benchmark echo mode: every <c>realtimeInput.audio</c> chunk is answered at once with one
    /// <c>serverContent.modelTurn</c> audio message carrying exactly the same base64 bytes. No voice
    /// activity detection, turns, pacing or transcripts. Default false.
    /// </summary>
    public bool EchoAudio { get; set; }

    /// <summary>The largest client message accepted, in bytes; a larger one closes with 1009. Default 1 MiB.</summary>
    public int MaxMessageBytes { get; set; } = 1024 * 1024;

    /// <summary>How much received PCM each connection keeps for <see cref="EmulatorConnection.GetReceivedAudio"/>; later audio is counted but not kept. Default 10 MiB.</summary>
    public int MaxRecordedAudioBytes { get; set; } = 10 * 1024 * 1024;

    /// <summary>The RMS level (in PCM16 units, 0–32767) above which a 10 ms window counts as speech. Default 500 (about −36 dBFS).</summary>
    public double SpeechThreshold { get; set; } = 500;

    /// <summary>How much speech starts an utterance and interrupts a reply (barge-in). Default 200 ms.</summary>
    public TimeSpan MinSpeechDuration { get; set; } = TimeSpan.FromMilliseconds(200);

    /// <summary>How much silence after speech ends the user's utterance. Default 500 ms.</summary>
    public TimeSpan SilenceDuration { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>The longest utterance kept; a longer one is answered at once. Default 30 s.</summary>
    public TimeSpan MaxUtteranceDuration { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Extra delay before each reply starts, as model latency. Default zero.</summary>
    public TimeSpan ReplyLatency { get; set; }

    /// <summary>The length of each reply audio chunk. Default 100 ms.</summary>
    public TimeSpan OutputChunkDuration { get; set; } = TimeSpan.FromMilliseconds(100);

    /// <summary>Pace reply audio at real time (one chunk per chunk duration), as the service does. Default true.</summary>
    public bool RealTimePacing { get; set; } = true;

    /// <summary>Tool calls the model makes when a user turn matches; checked in order, the first match wins.</summary>
    public IList<EmulatorToolCallRule> ToolCallRules { get; } = new List<EmulatorToolCallRule>();

    /// <summary>How long a pending tool call waits for its <c>toolResponse</c> before the turn is abandoned. Default 60 s.</summary>
    public TimeSpan ToolResponseTimeout { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>When the user speaks while tool calls are pending, send <c>toolCallCancellation</c> for them. Default true.</summary>
    public bool CancelToolCallsOnBargeIn { get; set; } = true;

    /// <summary>
    /// How long after <c>setupComplete</c> the emulator sends <c>goAway</c>; null never. Default 9 min 10 s,
    /// so that with <see cref="GoAwayTimeLeft"/> the connection lives about 10 minutes, as Google's do.
    /// </summary>
    public TimeSpan? GoAwayAfter { get; set; } = TimeSpan.FromSeconds(550);

    /// <summary>The <c>timeLeft</c> announced in <c>goAway</c>; the connection closes with 1011 "Deadline expired…" after it. Default 50 s.</summary>
    public TimeSpan GoAwayTimeLeft { get; set; } = TimeSpan.FromSeconds(50);

    /// <summary>Delay before <c>setupComplete</c>. Default zero.</summary>
    public TimeSpan SetupCompleteDelay { get; set; }

    /// <summary>Never send <c>setupComplete</c> (as a fatal setup error on 3.1 models looks). Default false.</summary>
    public bool SuppressSetupComplete { get; set; }

    /// <summary>Answer <c>setup</c> with this fault instead of <c>setupComplete</c>. Default none.</summary>
    public EmulatorFault? SetupFault { get; set; }

    /// <summary>Inject this fault halfway through the reply audio of turn <see cref="MidTurnFaultTurn"/> of each connection. Default none.</summary>
    public EmulatorFault? MidTurnFault { get; set; }

    /// <summary>Which turn of a connection (1-based) <see cref="MidTurnFault"/> hits. Default 1.</summary>
    public int MidTurnFaultTurn { get; set; } = 1;

    /// <summary>Delay each pong to the client's WebSocket pings by this much (Google's pongs were seen 8–30 s late). Default zero.</summary>
    public TimeSpan PongDelay { get; set; }

    /// <summary>
    /// Whether a new conversation gets a resumption handle right after <c>setupComplete</c> (default
    /// true). When false, its first handle comes after its first turn, as the service often does, so a
    /// failure before then has nothing to resume from.
    /// </summary>
    public bool ResumptionHandleAtSetup { get; set; } = true;

    /// <summary>How long session resumption handles stay valid after their conversation was last used. Default 2 h.</summary>
    public TimeSpan ResumptionHandleLifetime { get; set; } = TimeSpan.FromHours(2);

    /// <summary>
    /// Conversations shared with other emulators given the same object, so that a handle one of them
    /// issued resumes on another. Null (the default): this emulator's conversations are its own.
    /// </summary>
    public EmulatorConversations? Conversations { get; set; }
}

/// <summary>
/// A scripted tool call: when a user turn matches, the model calls <see cref="ToolName"/> with
/// <see cref="ArgumentsJson"/>, waits for the <c>toolResponse</c>, then speaks a reply whose output
/// transcription contains the response JSON.
/// </summary>
public sealed class EmulatorToolCallRule
{
    /// <summary>The function to call; null calls the first function the client declared in <c>setup</c>.</summary>
    public string? ToolName { get; set; }

    /// <summary>The call's <c>args</c>, a JSON object. Default <c>{}</c>.</summary>
    public string ArgumentsJson { get; set; } = "{}";

    /// <summary>
    /// The rule matches a turn whose user text (typed text, or the input transcription of speech such as
    /// <c>[heard 2.0 s of audio]</c>) contains this, ignoring case. Null matches every turn.
    /// </summary>
    public string? WhenTextContains { get; set; }

    /// <summary>Remove the rule after its first match. Default false.</summary>
    public bool Once { get; set; }
}
