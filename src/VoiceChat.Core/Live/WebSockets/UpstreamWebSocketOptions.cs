namespace VoiceChat.Live.WebSockets;

/// <summary>The limits and the keep-alive of an <see cref="UpstreamWebSocket"/> (named as <c>ClientWebSocketOptions</c> names them).</summary>
internal sealed record UpstreamWebSocketOptions
{
    /// <summary>How often a keep-alive frame goes out; zero or <see cref="Timeout.InfiniteTimeSpan"/> for never.</summary>
    public TimeSpan KeepAliveInterval { get; init; } = Timeout.InfiniteTimeSpan;

    /// <summary>
    /// Finite: the keep-alive frame is a ping, and when no frame at all arrives within this time of
    /// it the connection is dropped as lost. Zero or <see cref="Timeout.InfiniteTimeSpan"/>: the keep-alive is
    /// an unsolicited pong, sent only when nothing else was sent since the last one, and nothing is checked.
    /// </summary>
    public TimeSpan KeepAliveTimeout { get; init; } = Timeout.InfiniteTimeSpan;

    /// <summary>The largest message received, its fragments together; a larger one fails the connection (close 1009).</summary>
    public long MaxMessageBytes { get; init; } = 16 * 1024 * 1024;
}
