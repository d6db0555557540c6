using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using VoiceChat;
using VoiceChat.AspNetCore.Health;
using VoiceChat.AspNetCore.Hosting;
using VoiceChat.AspNetCore.Resume;
using VoiceChat.Live;
using VoiceChat.Sessions;
using VoiceChat.Sessions.Events;
using VoiceChat.Sessions.Resume;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the VoiceChat relay.</summary>
public static class VoiceChatServiceCollectionExtensions
{
    /// <summary>
    /// Adds the VoiceChat relay: options bound from the configuration section <c>VoiceChat</c>
    /// (validated at start-up), the Gemini Live connection, the session registry, a readiness
    /// health check named <c>voicechat</c> tagged <c>ready</c>, and graceful shutdown. Map the
    /// endpoint with <c>app.MapVoiceChat("/voice")</c>.
    /// </summary>
    /// <param name="services">The application's services.</param>
    /// <param name="configure">Changes the options after configuration is bound.</param>
    /// <returns>A builder for tools and further settings.</returns>
    public static IVoiceChatBuilder AddVoiceChat(this IServiceCollection services, Action<VoiceChatOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);

        var options = services.AddOptions<VoiceChatOptions>().BindConfiguration(VoiceChatOptions.SectionName);
        if (configure is not null)
        {
            options.Configure(configure);
        }

        options.ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<VoiceChatOptions>, VoiceChatOptionsValidator>());

        services.AddGeminiLive();
        services.TryAddSingleton<VoiceChatMarkerService>();
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<VoiceSessionRegistry>();
        services.TryAddSingleton<SessionEventHub>();
        services.TryAddSingleton<RedisConnection>();
        services.TryAddSingleton<RedisResumeStore>();
        services.TryAddSingleton(sp => new VoiceConversationDirectory(
            sp.GetRequiredService<ILogger<VoiceConversationDirectory>>(),
            string.IsNullOrWhiteSpace(sp.GetRequiredService<IOptions<VoiceChatOptions>>().Value.Resume.Redis) ? null : sp.GetRequiredService<RedisResumeStore>()));
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IConfigureOptions<KeyManagementOptions>, SharedKeyRingSetup>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IConfigureOptions<DataProtectionOptions>, SharedKeyRingSetup>());
        services.TryAddSingleton<VoiceChatRequestHandler>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, VoiceChatShutdownService>());
        services.AddHealthChecks().AddCheck<VoiceChatHealthCheck>("voicechat", tags: ["ready"]);

        return new VoiceChatBuilder(services);
    }
}
