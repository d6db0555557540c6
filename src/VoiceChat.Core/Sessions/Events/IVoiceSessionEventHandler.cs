namespace VoiceChat;

/// <summary>
/// Receives the events of every voice session (transcripts, tool calls, usage, start and end), for
/// example to keep transcripts in a database. Add it with <c>AddSessionEventHandler&lt;THandler&gt;()</c>
/// or register an instance as a singleton <see cref="IVoiceSessionEventHandler"/>.
/// </summary>
/// <remarks>
/// Handlers run off the audio path. Each session's events wait in a bounded queue
/// (<c>VoiceChat:Events:QueueCapacity</c>) and are delivered one at a time, in order, to each handler
/// in the order they were added; events of different sessions may be delivered at the same time. A
/// handler that is slow makes the queue fill up, and events that find it full are dropped (counted
/// and logged), never the session's audio. A handler that throws is logged and the next event still
/// comes. When a session ends its queue is delivered within <c>VoiceChat:Events:DrainTimeout</c>;
/// then <c>cancellationToken</c> is cancelled and what is left is dropped.
/// </remarks>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Naming", "CA1711:Identifiers should not have incorrect suffix", Justification = "It handles session events; it is a service registered in DI, not a delegate, and the name says so.")]
public interface IVoiceSessionEventHandler
{
    /// <summary>Handles one event.</summary>
    /// <param name="sessionEvent">The event: one of the sealed records that derive from <see cref="VoiceSessionEvent"/>.</param>
    /// <param name="cancellationToken">Cancelled when the session has ended and its delivery time is over.</param>
    /// <returns>A task that completes when the event is handled.</returns>
    ValueTask OnEventAsync(VoiceSessionEvent sessionEvent, CancellationToken cancellationToken);
}
