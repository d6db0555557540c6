namespace VoiceChat.Sample.Conversations;

/// <summary>
/// Writes every session event to the <see cref="ConversationStore"/>. VoiceChat calls it off the audio
/// path, one event at a time per session, so a slow disk delays only this session's events (and drops
/// them once its queue is full), never its audio.
/// </summary>
public sealed class ConversationRecorder(ConversationStore store) : IVoiceSessionEventHandler
{
    public async ValueTask OnEventAsync(VoiceSessionEvent sessionEvent, CancellationToken cancellationToken) =>
        await store.RecordAsync(sessionEvent, cancellationToken);
}
