using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using VoiceChat.Live.Gemini;
using VoiceChat.Tools;

namespace VoiceChat.Live;

/// <summary>Registers the Gemini Live bridge (called by <c>AddVoiceChat()</c>).</summary>
internal static class LiveServiceCollectionExtensions
{
    /// <summary>
    /// Registers <see cref="ILiveConnectionFactory"/> (tools over resumption over the Gemini client),
    /// the Vertex AI token source, <see cref="TimeProvider.System"/> and the validation of
    /// <see cref="VoiceChatOptions.Gemini"/>. Idempotent. Options binding is the caller's.
    /// </summary>
    public static IServiceCollection AddGeminiLive(this IServiceCollection services)
    {
        services.AddOptions();
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<IAccessTokenSource>(sp => new GoogleCredentialTokenSource(
            sp.GetRequiredService<IOptions<VoiceChatOptions>>(),
            sp.GetService<GoogleCredentialRegistration>()));
        services.TryAddSingleton<ToolRegistry>();
        services.TryAddSingleton<IResumableLiveConnector, GeminiLiveConnector>();
        services.TryAddSingleton<ILiveConnectionFactory, LiveConnectionFactory>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<VoiceChatOptions>, GeminiOptionsValidator>());
        return services;
    }
}
