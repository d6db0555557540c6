namespace VoiceChat;

/// <summary>
/// Something that happened in a voice session, delivered to the app's
/// <see cref="IVoiceSessionEventHandler"/>s off the audio path. Events belong to the conversation
/// (the session id), which outlives any one client connection: one <see cref="VoiceSessionStarted"/>
/// and one <see cref="VoiceSessionEnded"/> per conversation in this process, and in between, in the
/// order they happened, transcripts, tool calls, interruptions and usage.
/// </summary>
/// <param name="SessionId">The session's id (the client's <c>session_id</c>, or one the server made).</param>
/// <param name="UserId">Who the session belongs to: the authenticated user's id, or the client's unverified <c>user_id</c>.</param>
/// <param name="Timestamp">When it happened, from the host's <see cref="TimeProvider"/>.</param>
public abstract record VoiceSessionEvent(string SessionId, string UserId, DateTimeOffset Timestamp);

/// <summary>
/// The conversation started in this process: a new session, or (<paramref name="Resumed"/>) one
/// taken over from another instance through the shared store. A client connection that resumes
/// the conversation within the same process raises no event: the conversation goes on.
/// </summary>
/// <param name="SessionId">The session's id.</param>
/// <param name="UserId">Who the session belongs to.</param>
/// <param name="Timestamp">When it started here.</param>
/// <param name="IsUserVerified">True when <paramref name="UserId"/> is the authenticated principal's id; false when it is only what an anonymous client claimed.</param>
/// <param name="Resumed">True when the conversation was taken over from another instance (its earlier events were raised there).</param>
/// <param name="Metadata">The <c>metadata</c> of the client's <c>start_session</c> (empty when it sent none).</param>
public sealed record VoiceSessionStarted(
    string SessionId,
    string UserId,
    DateTimeOffset Timestamp,
    bool IsUserVerified,
    bool Resumed,
    IReadOnlyDictionary<string, string> Metadata)
    : VoiceSessionEvent(SessionId, UserId, Timestamp);

/// <summary>Who spoke a transcript.</summary>
public enum VoiceSpeaker
{
    /// <summary>The user (the model's transcription of the microphone audio).</summary>
    User,

    /// <summary>The assistant (the transcription of the model's speech).</summary>
    Assistant,
}

/// <summary>
/// One whole utterance, as the client's final <c>transcript</c> (<c>final:true</c>) carries it: one
/// per user turn and one per model turn, never the partial fragments. A model turn cut short by the
/// user ends where it was cut (see <see cref="VoiceSessionInterrupted"/>).
/// </summary>
/// <param name="SessionId">The session's id.</param>
/// <param name="UserId">Who the session belongs to.</param>
/// <param name="Timestamp">When the utterance was complete.</param>
/// <param name="Speaker">Who spoke it.</param>
/// <param name="Text">The transcript.</param>
public sealed record VoiceSessionTranscript(
    string SessionId,
    string UserId,
    DateTimeOffset Timestamp,
    VoiceSpeaker Speaker,
    string Text)
    : VoiceSessionEvent(SessionId, UserId, Timestamp);

/// <summary>How a tool call ended.</summary>
public enum VoiceToolCallOutcome
{
    /// <summary>The tool returned; its result went to the model as <c>{"output": …}</c>.</summary>
    Succeeded,

    /// <summary>The tool threw; the model got <c>{"error": …}</c> (the exception is in the logs).</summary>
    Failed,

    /// <summary>The tool did not finish within <c>VoiceChat:Gemini:ToolTimeout</c>; the model got <c>{"error": …}</c>.</summary>
    TimedOut,

    /// <summary>The model withdrew the call (the user spoke over it) and the tool was cancelled.</summary>
    Cancelled,
}

/// <summary>A server-side tool call the model made, once it is over.</summary>
/// <param name="SessionId">The session's id.</param>
/// <param name="UserId">Who the session belongs to.</param>
/// <param name="Timestamp">When the call ended.</param>
/// <param name="Name">The tool's name.</param>
/// <param name="CallId">The model's id of the call (empty when the service sent none).</param>
/// <param name="Outcome">How it ended.</param>
/// <param name="Duration">How long the tool ran.</param>
public sealed record VoiceSessionToolCall(
    string SessionId,
    string UserId,
    DateTimeOffset Timestamp,
    string Name,
    string CallId,
    VoiceToolCallOutcome Outcome,
    TimeSpan Duration)
    : VoiceSessionEvent(SessionId, UserId, Timestamp);

/// <summary>The user spoke over the model: its reply was cut short (the client dropped the rest of its playback).</summary>
/// <param name="SessionId">The session's id.</param>
/// <param name="UserId">Who the session belongs to.</param>
/// <param name="Timestamp">When the model reported it.</param>
public sealed record VoiceSessionInterrupted(string SessionId, string UserId, DateTimeOffset Timestamp)
    : VoiceSessionEvent(SessionId, UserId, Timestamp);

/// <summary>
/// The model's token counts, as the service reports them (<c>usageMetadata</c>, usually once per
/// turn). Vertex AI's <c>candidates*</c> counts are the response counts here.
/// </summary>
/// <param name="SessionId">The session's id.</param>
/// <param name="UserId">Who the session belongs to.</param>
/// <param name="Timestamp">When the service reported it.</param>
/// <param name="PromptTokens">Tokens of the prompt (<c>promptTokenCount</c>).</param>
/// <param name="ResponseTokens">Tokens of the response (<c>responseTokenCount</c> or <c>candidatesTokenCount</c>).</param>
/// <param name="TotalTokens">All tokens (<c>totalTokenCount</c>).</param>
/// <param name="PromptTokensByModality">Prompt tokens by modality (<c>AUDIO</c>, <c>TEXT</c>, …) when the service gives them; else empty.</param>
/// <param name="ResponseTokensByModality">Response tokens by modality when the service gives them; else empty.</param>
public sealed record VoiceSessionUsage(
    string SessionId,
    string UserId,
    DateTimeOffset Timestamp,
    int PromptTokens,
    int ResponseTokens,
    int TotalTokens,
    IReadOnlyDictionary<string, int> PromptTokensByModality,
    IReadOnlyDictionary<string, int> ResponseTokensByModality)
    : VoiceSessionEvent(SessionId, UserId, Timestamp);

/// <summary>
/// The conversation ended in this process; nothing more follows for it here. Durations count from
/// <see cref="VoiceSessionStarted"/> in this process.
/// </summary>
/// <param name="SessionId">The session's id.</param>
/// <param name="UserId">Who the session belongs to.</param>
/// <param name="Timestamp">When it ended.</param>
/// <param name="Reason">
/// Why: <c>client_ended</c> (<c>end_session</c>), <c>client_gone</c> (the connection dropped and was
/// not resumed in time), <c>upstream_ended</c> (the model service ended it), <c>server_shutting_down</c>
/// (its state stays in the shared store when Redis is configured, so it may resume on another
/// instance), or the error code the client was sent (<c>idle_timeout</c>, <c>max_duration</c>, …).
/// </param>
/// <param name="Duration">How long it ran here.</param>
/// <param name="InputAudio">Microphone audio forwarded to the model, in time at the session's input sample rate.</param>
/// <param name="OutputAudio">Model speech received for the client, in time at 24 kHz.</param>
public sealed record VoiceSessionEnded(
    string SessionId,
    string UserId,
    DateTimeOffset Timestamp,
    string Reason,
    TimeSpan Duration,
    TimeSpan InputAudio,
    TimeSpan OutputAudio)
    : VoiceSessionEvent(SessionId, UserId, Timestamp);
