using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using VoiceChat;
using VoiceChat.Testing;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Points a VoiceChat host at the built-in Gemini Live API emulator.</summary>
public static class LiveApiEmulatorServiceCollectionExtensions
{
    /// <summary>
    /// Registers a <see cref="LiveApiEmulator"/> singleton and points <c>VoiceChat:Gemini</c> at it
    /// (<c>BaseUrl</c> = the emulator, <c>Backend</c> = Developer API, <c>ApiKey</c> = <c>emulator</c>).
    /// The emulator starts the first time <see cref="VoiceChatOptions"/> are built and is disposed with
    /// the service provider.
    /// </summary>
    /// <param name="builder">The VoiceChat builder.</param>
    /// <param name="configure">Configures the emulator's options.</param>
    /// <returns>The builder, for chaining.</returns>
    public static IVoiceChatBuilder UseLiveApiEmulator(this IVoiceChatBuilder builder, Action<LiveApiEmulatorOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.TryAddSingleton(services =>
        {
            var options = new LiveApiEmulatorOptions { LoggerFactory = services.GetService<ILoggerFactory>() };
            configure?.Invoke(options);

            // Started synchronously, here: the port (and so Gemini.BaseUrl) is only known once the emulator
            // listens, and VoiceChatOptions are first built during start-up validation, before any hosted
            // service could start it. Nothing else is running yet, so blocking briefly is harmless.
            return LiveApiEmulator.StartAsync(options).GetAwaiter().GetResult();
        });
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IPostConfigureOptions<VoiceChatOptions>, PointGeminiAtEmulator>());
        return builder;
    }

    private sealed class PointGeminiAtEmulator(LiveApiEmulator emulator) : IPostConfigureOptions<VoiceChatOptions>
    {
        public void PostConfigure(string? name, VoiceChatOptions options)
        {
            options.Gemini.BaseUrl = emulator.BaseUrl;
            options.Gemini.Backend = GeminiBackend.DeveloperApi;
            options.Gemini.ApiKey = "emulator";
        }
    }
}
