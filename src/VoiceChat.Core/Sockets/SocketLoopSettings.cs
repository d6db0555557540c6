namespace VoiceChat.Sockets;

/// <summary>How the socket loops run; the public knobs are on the hosting side.</summary>
internal sealed record SocketLoopSettings
{
    /// <summary>Loop threads; connections are spread over them in turn.</summary>
    public int LoopCount { get; init; } = Environment.ProcessorCount;

    /// <summary>Received bytes a connection holds before it stops reading (as Kestrel's request buffer).</summary>
    public int MaxInputBufferBytes { get; init; } = 1024 * 1024;

    /// <summary>Unsent bytes a connection holds before writers wait (as Kestrel's response buffer).</summary>
    public int MaxOutputBufferBytes { get; init; } = 64 * 1024;
}
