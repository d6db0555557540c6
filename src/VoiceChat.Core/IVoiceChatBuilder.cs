using Microsoft.Extensions.DependencyInjection;

namespace VoiceChat;

/// <summary>Configures VoiceChat further after <c>services.AddVoiceChat()</c>: tools, the model connection, hooks.</summary>
public interface IVoiceChatBuilder
{
    /// <summary>The application's services.</summary>
    IServiceCollection Services { get; }
}
