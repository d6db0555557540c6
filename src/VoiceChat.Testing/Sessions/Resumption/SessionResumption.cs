using System.Net.WebSockets;
using VoiceChat.Testing.Sessions.Setup;
using VoiceChat.Testing.Wire;

namespace VoiceChat.Testing.Sessions.Resumption;

/// <summary>
/// A connection's place in a conversation: a new one, or the one a resumption handle points to, and
/// the <c>sessionResumptionUpdate</c> messages that hand out handles to it when <c>setup</c> asked for them.
/// </summary>
internal sealed class SessionResumption(
    ConversationStore store, EmulatorSession owner, EmulatorConnection record, ServerMessageSender sender, LiveApiEmulatorOptions options)
{
    private bool _enabled;

    /// <summary>The conversation, once <see cref="Attach"/> succeeded.</summary>
    public ConversationState? Conversation { get; private set; }

    /// <summary>Starts a conversation, or resumes the one behind <see cref="SessionSetup.ResumeHandle"/>; null, or the close Google sends when it cannot.</summary>
    public SetupRejection? Attach(SessionSetup setup)
    {
        _enabled = setup.Resumption;
        if (setup.ResumeHandle is { } handle)
        {
            switch (store.TryResume(handle, owner, options.ResumptionHandleLifetime, out var state))
            {
                case ResumeResult.NotFound:
                    return new(WebSocketCloseStatus.PolicyViolation, EmulatorCloseReasons.SessionNotFound);
                case ResumeResult.StillOpen:
                    return new(WebSocketCloseStatus.InternalServerError, EmulatorCloseReasons.InternalError);
                default:
                    Conversation = state;
                    break;
            }
        }
        else
        {
            Conversation = store.Create(owner);
        }

        record.RecordConversation(Conversation!.Id, setup.ResumeHandle);
        return null;
    }

    /// <summary>After <c>setupComplete</c>: a handle at once when the options ask for it or the conversation already has turns.</summary>
    public async Task SetupCompletedAsync()
    {
        if (options.ResumptionHandleAtSetup || Conversation!.Turns > 0)
        {
            await SendHandleAsync().ConfigureAwait(false);
        }
    }

    /// <summary>A model turn began: the conversation cannot be resumed at this point (an update without a handle).</summary>
    public async Task TurnStartedAsync()
    {
        if (_enabled)
        {
            await sender.SendJsonAsync<string?>(null, ServerMessages.ResumptionUpdate).ConfigureAwait(false);
        }
    }

    /// <summary>A model turn ended, completed or interrupted: a new handle to resume from here.</summary>
    public async Task SendHandleAsync()
    {
        if (!_enabled)
        {
            return;
        }

        var handle = store.IssueHandle(Conversation!, options.ResumptionHandleLifetime);
        record.RecordHandle(handle);
        await sender.SendJsonAsync<string?>(handle, ServerMessages.ResumptionUpdate).ConfigureAwait(false);
    }

    /// <summary>The connection ended: another may resume the conversation.</summary>
    public void Release()
    {
        if (Conversation is not null)
        {
            store.Release(Conversation, owner);
        }
    }
}
