using System.Net.WebSockets;
using VoiceChat.Testing.Sessions;

namespace VoiceChat.Testing;

/// <summary>
/// What one connection to the emulator saw, for assertions, and the means to script it while it is
/// open. Every property is a thread-safe snapshot.
/// </summary>
public sealed class EmulatorConnection
{
    private readonly Lock _gate = new();
    private readonly List<string> _texts = [];
    private readonly List<EmulatorToolResponse> _toolResponses = [];
    private readonly List<EmulatorFunctionDeclaration> _functions = [];
    private readonly List<EmulatorActivitySignal> _activitySignals = [];
    private readonly List<string> _handlesIssued = [];
    private readonly List<string> _toolCallIds = [];
    private readonly List<EmulatorVideoFrame> _videoFrames = [];
    private readonly int _maxRecordedAudio;
    private readonly TaskCompletionSource _closed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private byte[] _audio = [];
    private int _audioLength;
    private long _audioBytes;
    private int _messagesReceived;
    private int _turns;
    private string? _setupJson;
    private string? _model;
    private string? _conversationId;
    private string? _resumedHandle;
    private WebSocketCloseStatus? _closeStatus;
    private string? _closeDescription;
    private bool _dropped;
    private bool _setupCompleteSent;

    internal EmulatorConnection(int id, string path, GeminiBackend backend, string apiVersion, string? apiKey, string? bearerToken, int maxRecordedAudio)
    {
        Id = id;
        Path = path;
        Backend = backend;
        ApiVersion = apiVersion;
        ApiKey = apiKey;
        BearerToken = bearerToken;
        _maxRecordedAudio = Math.Max(0, maxRecordedAudio);
    }

    /// <summary>The connection's number, from 1, in the order the emulator accepted them.</summary>
    public int Id { get; }

    /// <summary>The request path as the client sent it (for example <c>//ws/google.ai…</c>).</summary>
    public string Path { get; }

    /// <summary>Which API the path addressed.</summary>
    public GeminiBackend Backend { get; }

    /// <summary>The API version in the path: <c>v1beta</c>, <c>v1alpha</c>, <c>v1beta1</c> or <c>v1</c>.</summary>
    public string ApiVersion { get; }

    /// <summary>The Developer API key the client presented (header or query), if any.</summary>
    public string? ApiKey { get; }

    /// <summary>The Vertex AI bearer token the client presented, if any.</summary>
    public string? BearerToken { get; }

    /// <summary>The raw <c>setup</c> message (the whole JSON text), once received.</summary>
    public string? SetupJson { get { lock (_gate) { return _setupJson; } } }

    /// <summary>The model name exactly as in <c>setup.model</c>.</summary>
    public string? Model { get { lock (_gate) { return _model; } } }

    /// <summary>The model id: <see cref="Model"/> without <c>models/</c> or the Vertex path.</summary>
    public string? ModelId => Model is { } model ? model[(model.LastIndexOf('/') + 1)..] : null;

    /// <summary>Whether <c>setupComplete</c> was sent.</summary>
    public bool SetupCompleted { get { lock (_gate) { return _setupCompleteSent; } } }

    /// <summary>The conversation this connection belongs to; a resumed connection has its predecessor's.</summary>
    public string? ConversationId { get { lock (_gate) { return _conversationId; } } }

    /// <summary>Whether the connection resumed an earlier conversation.</summary>
    public bool IsResumption => ResumedHandle is not null;

    /// <summary>The handle in <c>setup.sessionResumption.handle</c>, when the client resumed.</summary>
    public string? ResumedHandle { get { lock (_gate) { return _resumedHandle; } } }

    /// <summary>How many client messages arrived (including <c>setup</c>).</summary>
    public int MessagesReceived => Volatile.Read(ref _messagesReceived);

    /// <summary>All PCM bytes received in <c>realtimeInput.audio</c>, including what was not kept.</summary>
    public long AudioBytesReceived => Interlocked.Read(ref _audioBytes);

    /// <summary>The model turns this connection completed (replies spoken to the end).</summary>
    public int CompletedTurns => Volatile.Read(ref _turns);

    /// <summary>Texts the client sent: <c>realtimeInput.text</c> and the text parts of <c>clientContent</c>.</summary>
    public IReadOnlyList<string> TextsReceived { get { lock (_gate) { return [.. _texts]; } } }

    /// <summary>Function responses received in <c>toolResponse</c>, in order, matched or not.</summary>
    public IReadOnlyList<EmulatorToolResponse> ToolResponses { get { lock (_gate) { return [.. _toolResponses]; } } }

    /// <summary>The functions declared in <c>setup.tools[].functionDeclarations</c>.</summary>
    public IReadOnlyList<EmulatorFunctionDeclaration> FunctionDeclarations { get { lock (_gate) { return [.. _functions]; } } }

    /// <summary>The video frames received in <c>realtimeInput.video</c>, in order.</summary>
    public IReadOnlyList<EmulatorVideoFrame> VideoFramesReceived { get { lock (_gate) { return [.. _videoFrames]; } } }

    /// <summary>The ids of the tool calls the emulator sent on this connection.</summary>
    public IReadOnlyList<string> ToolCallIds { get { lock (_gate) { return [.. _toolCallIds]; } } }

    /// <summary>Activity signals received (<c>activityStart</c>, <c>activityEnd</c>, <c>audioStreamEnd</c>), in order.</summary>
    public IReadOnlyList<EmulatorActivitySignal> ActivitySignals { get { lock (_gate) { return [.. _activitySignals]; } } }

    /// <summary>The resumption handles sent in <c>sessionResumptionUpdate</c>, in order.</summary>
    public IReadOnlyList<string> ResumptionHandlesIssued { get { lock (_gate) { return [.. _handlesIssued]; } } }

    /// <summary>The close code the emulator sent (or received first from the client); null while open or after an abrupt drop.</summary>
    public WebSocketCloseStatus? CloseStatus { get { lock (_gate) { return _closeStatus; } } }

    /// <summary>The close reason that went with <see cref="CloseStatus"/>.</summary>
    public string? CloseDescription { get { lock (_gate) { return _closeDescription; } } }

    /// <summary>Whether the emulator dropped the connection without a close frame.</summary>
    public bool Dropped { get { lock (_gate) { return _dropped; } } }

    /// <summary>Whether the connection is still open.</summary>
    public bool IsOpen => !_closed.Task.IsCompleted;

    /// <summary>Completes when the connection has ended, however it ended.</summary>
    public Task Closed => _closed.Task;

    internal EmulatorSession? Session { get; set; }

    /// <summary>The PCM16 bytes received in <c>realtimeInput.audio</c>, in order, up to <see cref="LiveApiEmulatorOptions.MaxRecordedAudioBytes"/>.</summary>
    public byte[] GetReceivedAudio()
    {
        lock (_gate)
        {
            return _audio.AsSpan(0, _audioLength).ToArray();
        }
    }

    /// <summary>Makes the model call <paramref name="toolName"/> now, whatever the conversation is doing. Returns the call's id.</summary>
    /// <param name="toolName">The function name.</param>
    /// <param name="argumentsJson">The call's <c>args</c>, a JSON object.</param>
    public Task<string> CallToolAsync(string toolName, string argumentsJson = "{}")
    {
        ArgumentException.ThrowIfNullOrEmpty(toolName);
        return RequireSession().CallToolNowAsync(callId: null, toolName, argumentsJson);
    }

    /// <summary>
    /// Makes the model call <paramref name="toolName"/> again with an id it used before, as a resumed
    /// conversation may when it restores a point before the answer. A relay must not run the call twice.
    /// </summary>
    /// <param name="callId">The id of the earlier call.</param>
    /// <param name="toolName">The function name.</param>
    /// <param name="argumentsJson">The call's <c>args</c>, a JSON object.</param>
    /// <returns>A task that completes when the call is sent.</returns>
    public Task RepeatToolCallAsync(string callId, string toolName, string argumentsJson = "{}")
    {
        ArgumentException.ThrowIfNullOrEmpty(callId);
        ArgumentException.ThrowIfNullOrEmpty(toolName);
        return RequireSession().CallToolNowAsync(callId, toolName, argumentsJson);
    }

    /// <summary>Sends <c>toolCallCancellation</c> for every pending tool call; returns the ids cancelled.</summary>
    public Task<IReadOnlyList<string>> CancelToolCallsAsync() => RequireSession().CancelPendingToolCallsAsync();

    /// <summary>Sends <c>goAway</c> now and closes with 1011 "Deadline expired…" after <paramref name="timeLeft"/>.</summary>
    /// <param name="timeLeft">The time announced; whole seconds are sent.</param>
    public Task SendGoAwayAsync(TimeSpan timeLeft) => RequireSession().GoAwayAsync(timeLeft);

    /// <summary>Injects <paramref name="fault"/> now (a close with Google's code and reason, or an abrupt drop).</summary>
    /// <param name="fault">The fault.</param>
    public Task InjectFaultAsync(EmulatorFault fault) => RequireSession().FaultAsync(fault);

    /// <summary>Closes the connection with the given code and reason.</summary>
    /// <param name="status">The close code.</param>
    /// <param name="reason">The reason, truncated to 123 bytes.</param>
    public Task CloseAsync(WebSocketCloseStatus status, string reason) => RequireSession().CloseAsync(status, reason);

    private EmulatorSession RequireSession() =>
        Session ?? throw new InvalidOperationException("The connection was not accepted as a WebSocket.");

    internal void RecordMessage() => Interlocked.Increment(ref _messagesReceived);

    internal void RecordSetup(string json, string model)
    {
        lock (_gate)
        {
            _setupJson = json;
            _model = model;
        }
    }

    internal void RecordFunctions(IEnumerable<EmulatorFunctionDeclaration> functions)
    {
        lock (_gate)
        {
            _functions.AddRange(functions);
        }
    }

    internal void RecordConversation(string conversationId, string? resumedHandle)
    {
        lock (_gate)
        {
            _conversationId = conversationId;
            _resumedHandle = resumedHandle;
        }
    }

    internal void RecordSetupComplete()
    {
        lock (_gate)
        {
            _setupCompleteSent = true;
        }
    }

    internal void RecordAudio(ReadOnlySpan<byte> pcm)
    {
        Interlocked.Add(ref _audioBytes, pcm.Length);
        lock (_gate)
        {
            var room = _maxRecordedAudio - _audioLength;
            if (room <= 0)
            {
                return;
            }

            var take = Math.Min(room, pcm.Length);
            if (_audio.Length < _audioLength + take)
            {
                // Grow geometrically but never beyond the bound.
                var size = Math.Min(_maxRecordedAudio, Math.Max(_audioLength + take, Math.Max(64 * 1024, _audio.Length * 2)));
                Array.Resize(ref _audio, size);
            }

            pcm[..take].CopyTo(_audio.AsSpan(_audioLength));
            _audioLength += take;
        }
    }

    internal void RecordAudioCount(long bytes) => Interlocked.Add(ref _audioBytes, bytes);

    internal void RecordText(string text)
    {
        lock (_gate)
        {
            _texts.Add(text);
        }
    }

    internal void RecordToolResponse(EmulatorToolResponse response)
    {
        lock (_gate)
        {
            _toolResponses.Add(response);
        }
    }

    internal void RecordVideoFrame(EmulatorVideoFrame frame)
    {
        lock (_gate)
        {
            _videoFrames.Add(frame);
        }
    }

    internal void RecordToolCall(string id)
    {
        lock (_gate)
        {
            _toolCallIds.Add(id);
        }
    }

    internal void RecordActivity(EmulatorActivitySignal signal)
    {
        lock (_gate)
        {
            _activitySignals.Add(signal);
        }
    }

    internal void RecordHandle(string handle)
    {
        lock (_gate)
        {
            _handlesIssued.Add(handle);
        }
    }

    internal void RecordTurnCompleted() => Interlocked.Increment(ref _turns);

    internal void RecordClose(WebSocketCloseStatus? status, string? description, bool dropped)
    {
        lock (_gate)
        {
            if (_closeStatus is null && !_dropped)
            {
                _closeStatus = status;
                _closeDescription = description;
                _dropped = dropped;
            }
        }
    }

    internal void MarkEnded() => _closed.TrySetResult();
}

/// <summary>One function response received in <c>toolResponse.functionResponses</c>.</summary>
/// <param name="Id">The call id the client echoed (may be null: Vertex tolerates a missing id).</param>
/// <param name="Name">The function name the client echoed.</param>
/// <param name="ResponseJson">The <c>response</c> object as JSON text.</param>
/// <param name="Matched">Whether the id named a pending call; an unknown id is recorded and otherwise ignored.</param>
public sealed record EmulatorToolResponse(string? Id, string? Name, string ResponseJson, bool Matched)
{
    /// <summary>
    /// The <c>scheduling</c> the response carried (<c>INTERRUPT</c>, <c>WHEN_IDLE</c>, <c>SILENT</c>, as a name even when
    /// sent as a number), from the response's own field or else from inside <c>response</c>; null when it carried none.
    /// </summary>
    public string? Scheduling { get; init; }
}

/// <summary>One video frame received in <c>realtimeInput.video</c>.</summary>
/// <param name="MimeType"><c>image/jpeg</c> or <c>image/png</c>.</param>
/// <param name="Bytes">The size of the decoded image.</param>
/// <param name="Width">The image's width in pixels, when its header could be read.</param>
/// <param name="Height">The image's height in pixels, when its header could be read.</param>
public sealed record EmulatorVideoFrame(string MimeType, int Bytes, int? Width, int? Height);

/// <summary>A function the client declared in <c>setup</c>.</summary>
/// <param name="Name">The function name.</param>
/// <param name="Description">Its description, if any.</param>
/// <param name="ParametersJson">The <c>parametersJsonSchema</c> (or else <c>parameters</c>) as JSON text, if any.</param>
public sealed record EmulatorFunctionDeclaration(string Name, string? Description, string? ParametersJson)
{
    /// <summary>
    /// Runs non-blocking: the model goes on talking while the call runs. Declared with <c>behavior: NON_BLOCKING</c>,
    /// or on Gemini 3.8 without <c>behavior: BLOCKING</c> (non-blocking is its default).
    /// </summary>
    public bool NonBlocking { get; init; }
}

/// <summary>An activity signal a client sent in <c>realtimeInput</c>.</summary>
public enum EmulatorActivitySignal
{
    /// <summary><c>activityStart</c>.</summary>
    ActivityStart,

    /// <summary><c>activityEnd</c>.</summary>
    ActivityEnd,

    /// <summary><c>audioStreamEnd</c>.</summary>
    AudioStreamEnd,
}
