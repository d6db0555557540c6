using VoiceChat.Testing.Sessions.Resumption;

namespace VoiceChat.Testing;

/// <summary>
/// Conversation state (turn count, history) found by resumption handle, shared by every emulator
/// whose <see cref="LiveApiEmulatorOptions.Conversations"/> is this object: a handle issued by one
/// emulator then resumes its conversation on another, as Google's service does behind one endpoint.
/// Without it each emulator keeps its own conversations.
/// </summary>
public sealed class EmulatorConversations
{
    /// <summary>Creates an empty set of conversations.</summary>
    /// <param name="timeProvider">The clock of handle expiry; <see cref="TimeProvider.System"/> when null.</param>
    public EmulatorConversations(TimeProvider? timeProvider = null)
    {
        Store = new ConversationStore(timeProvider ?? TimeProvider.System);
    }

    internal ConversationStore Store { get; }
}
