namespace VoiceChat.Live;

/// <summary>
/// One upstream model conversation (a Gemini Live session, or a decorator over one).
/// Sends may be called concurrently from several tasks; implementations serialise them.
/// <see cref="ReceiveAsync"/> has a single caller.
/// </summary>
internal interface ILiveConnection : IAsyncDisposable
{
    /// <summary>Sends microphone audio: PCM16 little-endian mono at the session's input sample rate.</summary>
    ValueTask SendAudioAsync(ReadOnlyMemory<byte> pcm16, CancellationToken cancellationToken);

    /// <summary>Sends one video frame (<c>realtimeInput.video</c>): a JPEG or PNG image of <paramref name="mimeType"/>.</summary>
    ValueTask SendVideoAsync(ReadOnlyMemory<byte> image, string mimeType, CancellationToken cancellationToken);

    /// <summary>Sends a typed user turn.</summary>
    ValueTask SendTextAsync(string text, CancellationToken cancellationToken);

    /// <summary>Manual activity detection: the user started speaking.</summary>
    ValueTask SendActivityStartAsync(CancellationToken cancellationToken);

    /// <summary>Manual activity detection: the user stopped speaking.</summary>
    ValueTask SendActivityEndAsync(CancellationToken cancellationToken);

    /// <summary>The microphone paused.</summary>
    ValueTask SendAudioStreamEndAsync(CancellationToken cancellationToken);

    /// <summary>Answers tool calls (<c>toolResponse</c>).</summary>
    ValueTask SendToolResponsesAsync(IReadOnlyList<LiveToolResult> results, CancellationToken cancellationToken);

    /// <summary>
    /// Reads the next event. Single reader. After an event of kind <see cref="LiveEventKind.Closed"/>
    /// the connection yields nothing more. The caller owns an audio event's buffer and must
    /// <see cref="PooledAudio.Return"/> it.
    /// </summary>
    ValueTask<LiveEvent> ReceiveAsync(CancellationToken cancellationToken);

    /// <summary>Closes the upstream conversation gracefully (normal closure).</summary>
    ValueTask CloseAsync(CancellationToken cancellationToken);
}

/// <summary>Opens upstream conversations. The registered factory returns a fully decorated connection (tools, resumption).</summary>
internal interface ILiveConnectionFactory
{
    /// <summary>
    /// Runs the session hooks, connects and completes the setup handshake. Throws
    /// <see cref="LiveConnectionException"/> when the service refuses or cannot be reached.
    /// </summary>
    ValueTask<LiveSessionConnection> ConnectAsync(LiveSessionRequest request, CancellationToken cancellationToken);

    /// <summary>
    /// Continues a conversation that another process started: its settled setup (the hooks are not
    /// run again) and the model's resumption handle.
    /// </summary>
    ValueTask<LiveSessionConnection> ResumeAsync(LiveSessionSetup setup, string resumptionHandle, CancellationToken cancellationToken);
}

/// <summary>A session's decorated upstream connection and the setup it was opened with.</summary>
internal sealed record LiveSessionConnection(ILiveConnection Connection, LiveSessionSetup Setup);
