namespace VoiceChat;

/// <summary>
/// How session events are queued for the app's <see cref="IVoiceSessionEventHandler"/>s (section
/// <c>VoiceChat:Events</c>; docs/configuration.md, "Session events"). Without a handler nothing is queued.
/// </summary>
public sealed class SessionEventOptions
{
    /// <summary>
    /// The most events one session keeps waiting for its handlers. Default 256 (a turn makes about
    /// five). An event that finds the queue full is dropped, counted and logged: a slow handler never
    /// delays the session's audio.
    /// </summary>
    public int QueueCapacity { get; set; } = 256;

    /// <summary>
    /// How long the events still queued when a session ends may take to be delivered. Default 5 s.
    /// Then the handler's cancellation token is cancelled and the events left are dropped.
    /// </summary>
    public TimeSpan DrainTimeout { get; set; } = TimeSpan.FromSeconds(5);
}
