using System.Buffers;

namespace VoiceChat.Live;

/// <summary>What an upstream conversation reports.</summary>
internal enum LiveEventKind
{
    /// <summary>Model speech in <see cref="LiveEvent.Audio"/> (PCM16 mono, 24 kHz).</summary>
    Audio,

    /// <summary>User speech transcript: <see cref="LiveEvent.Text"/>, <see cref="LiveEvent.Final"/>.</summary>
    InputTranscript,

    /// <summary>Model speech transcript: <see cref="LiveEvent.Text"/>, <see cref="LiveEvent.Final"/>.</summary>
    OutputTranscript,

    /// <summary>The user spoke over the model: drop queued playback.</summary>
    Interrupted,

    /// <summary>The model finished generating (playback may still be under way).</summary>
    GenerationComplete,

    /// <summary>The model's turn is over.</summary>
    TurnComplete,

    /// <summary>The model asks for tool calls: <see cref="LiveEvent.ToolCalls"/>.</summary>
    ToolCall,

    /// <summary>The model withdrew tool calls: <see cref="LiveEvent.CancelledToolCallIds"/>.</summary>
    ToolCallCancellation,

    /// <summary>A server-side tool changed state: <see cref="LiveEvent.ToolStatus"/>.</summary>
    ToolStatus,

    /// <summary>The service will close this connection soon: <see cref="LiveEvent.TimeLeft"/>.</summary>
    GoAway,

    /// <summary>A resumption handle: <see cref="LiveEvent.ResumptionHandle"/>, <see cref="LiveEvent.Resumable"/>.</summary>
    ResumptionUpdate,

    /// <summary>Token usage: <see cref="LiveEvent.Usage"/>.</summary>
    Usage,

    /// <summary>
    /// A condition the client must hear about: <see cref="LiveEvent.Error"/>. When
    /// <see cref="LiveError.Fatal"/> is set, a <see cref="Closed"/> event follows.
    /// </summary>
    Error,

    /// <summary>The conversation is over; <see cref="LiveEvent.Error"/> says why when it was not a normal end.</summary>
    Closed,
}

/// <summary>
/// One event from an upstream conversation. A struct so that the audio path allocates nothing
/// but the pooled buffer it carries.
/// </summary>
internal readonly struct LiveEvent
{
    private LiveEvent(LiveEventKind kind) => Kind = kind;

    public LiveEventKind Kind { get; private init; }

    public PooledAudio Audio { get; private init; }

    public string? Text { get; private init; }

    public bool Final { get; private init; }

    public IReadOnlyList<LiveToolCall>? ToolCalls { get; private init; }

    public IReadOnlyList<string>? CancelledToolCallIds { get; private init; }

    public LiveToolStatus? ToolStatus { get; private init; }

    public TimeSpan TimeLeft { get; private init; }

    public string? ResumptionHandle { get; private init; }

    public bool Resumable { get; private init; }

    public LiveUsage? Usage { get; private init; }

    public LiveError? Error { get; private init; }

    public static LiveEvent ForAudio(PooledAudio audio) => new(LiveEventKind.Audio) { Audio = audio };

    public static LiveEvent ForInputTranscript(string text, bool final) => new(LiveEventKind.InputTranscript) { Text = text, Final = final };

    public static LiveEvent ForOutputTranscript(string text, bool final) => new(LiveEventKind.OutputTranscript) { Text = text, Final = final };

    public static LiveEvent Interrupted { get; } = new(LiveEventKind.Interrupted);

    public static LiveEvent GenerationComplete { get; } = new(LiveEventKind.GenerationComplete);

    public static LiveEvent TurnComplete { get; } = new(LiveEventKind.TurnComplete);

    public static LiveEvent ForToolCalls(IReadOnlyList<LiveToolCall> calls) => new(LiveEventKind.ToolCall) { ToolCalls = calls };

    public static LiveEvent ForToolCallCancellation(IReadOnlyList<string> ids) => new(LiveEventKind.ToolCallCancellation) { CancelledToolCallIds = ids };

    public static LiveEvent ForToolStatus(LiveToolStatus status) => new(LiveEventKind.ToolStatus) { ToolStatus = status };

    public static LiveEvent ForGoAway(TimeSpan timeLeft) => new(LiveEventKind.GoAway) { TimeLeft = timeLeft };

    public static LiveEvent ForResumptionUpdate(string? handle, bool resumable) => new(LiveEventKind.ResumptionUpdate) { ResumptionHandle = handle, Resumable = resumable };

    public static LiveEvent ForUsage(LiveUsage usage) => new(LiveEventKind.Usage) { Usage = usage };

    public static LiveEvent ForError(LiveError error) => new(LiveEventKind.Error) { Error = error };

    public static LiveEvent ForClosed(LiveError? error) => new(LiveEventKind.Closed) { Error = error };

    /// <summary>Hands an audio event's buffer back to the pool, for an event nobody will forward; other kinds hold none.</summary>
    public void ReturnAudio() => Audio.Return();
}

/// <summary>Audio in a buffer rented from <see cref="Pool"/>; whoever holds it last returns it.</summary>
internal readonly struct PooledAudio
{
    /// <summary>
    /// The pool of audio buffers. Not <see cref="ArrayPool{T}.Shared"/>: audio is rented on a socket's
    /// read path and returned on another thread after it was forwarded, and with many sessions
    /// bursting at once more buffers are in flight than the shared pool keeps per core, so most of
    /// its returns were dropped and most rents allocated. This pool keeps up to 1024 buffers per size.
    /// </summary>
    public static readonly ArrayPool<byte> Pool = ArrayPool<byte>.Create(maxArrayLength: 1024 * 1024, maxArraysPerBucket: 1024);

    public PooledAudio(byte[] array, int length)
    {
        Array = array;
        Length = length;
    }

    public byte[]? Array { get; }

    public int Length { get; }

    public ReadOnlyMemory<byte> Memory => Array is null ? default : Array.AsMemory(0, Length);

    /// <summary>Rents a buffer and copies <paramref name="source"/> into it.</summary>
    public static PooledAudio CopyOf(ReadOnlySpan<byte> source)
    {
        var array = Pool.Rent(Math.Max(source.Length, 1));
        source.CopyTo(array);
        return new PooledAudio(array, source.Length);
    }

    public void Return()
    {
        if (Array is not null)
        {
            Pool.Return(Array);
        }
    }
}

/// <summary>A function call the model asks for.</summary>
internal sealed record LiveToolCall(string Id, string Name, System.Text.Json.JsonElement Arguments);

/// <summary>
/// The answer to a function call; <paramref name="Response"/> is a JSON object (<c>{"output":…}</c> or <c>{"error":…}</c>).
/// <paramref name="Scheduling"/> is the <c>scheduling</c> of a non-blocking call's answer (<c>INTERRUPT</c>, <c>WHEN_IDLE</c>,
/// <c>SILENT</c>), null for a blocking call.
/// </summary>
internal sealed record LiveToolResult(string Id, string Name, System.Text.Json.JsonElement Response, string? Scheduling = null);

/// <summary>What the client is told about a server-side tool.</summary>
internal sealed record LiveToolStatus(string Name, string Status)
{
    public const string Started = "started";
    public const string Completed = "completed";
    public const string Failed = "failed";
    public const string Cancelled = "cancelled";

    /// <summary>The model's id of the call (for the client's <c>tool_call</c> and the app's session events).</summary>
    public string CallId { get; init; } = string.Empty;

    /// <summary>Whether the model waits for the call's result (false: the tool is non-blocking).</summary>
    public bool Blocking { get; init; } = true;

    /// <summary>A non-blocking call's <c>scheduling</c>, once its result was sent; null otherwise.</summary>
    public string? Scheduling { get; init; }

    /// <summary>How a call that is over ended; null while it runs.</summary>
    public VoiceToolCallOutcome? Outcome { get; init; }

    /// <summary>How long a call that is over ran.</summary>
    public TimeSpan Duration { get; init; }
}

/// <summary>Token counts, with Vertex AI's <c>candidates*</c> names folded into the response counts.</summary>
internal sealed record LiveUsage(int PromptTokens, int ResponseTokens, int TotalTokens)
{
    /// <summary>No counts by modality (the service sent none).</summary>
    public static readonly IReadOnlyDictionary<string, int> NoDetails = new Dictionary<string, int>(0, StringComparer.Ordinal);

    /// <summary>Prompt tokens by modality (<c>promptTokensDetails</c>).</summary>
    public IReadOnlyDictionary<string, int> PromptByModality { get; init; } = NoDetails;

    /// <summary>Response tokens by modality (<c>responseTokensDetails</c>, Vertex AI's <c>candidatesTokensDetails</c>).</summary>
    public IReadOnlyDictionary<string, int> ResponseByModality { get; init; } = NoDetails;
}

/// <summary>
/// An upstream condition for the client: <paramref name="Code"/> is one of <see cref="VoiceChatErrorCodes"/>.
/// <paramref name="Message"/> is safe to show to the client (never the service's own text).
/// </summary>
internal sealed record LiveError(string Code, string Message, bool Fatal)
{
    /// <summary>
    /// The connection was lost in a way that resuming the conversation may repair (for the resumption layer;
    /// the session can ignore it: by the time an error reaches it, resumption has been tried).
    /// </summary>
    public bool Retriable { get; init; }
}

/// <summary>The upstream service refused or failed a connection.</summary>
internal sealed class LiveConnectionException : Exception
{
    public LiveConnectionException(LiveError error, string? upstreamDetail = null, Exception? innerException = null)
        : base(error.Message, innerException)
    {
        Error = error;
        UpstreamDetail = upstreamDetail;
    }

    /// <summary>What the client is told.</summary>
    public LiveError Error { get; }

    /// <summary>The service's own words (close code and reason) for the logs; never sent to the client.</summary>
    public string? UpstreamDetail { get; }
}
