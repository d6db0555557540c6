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
        AddEmulator(builder, configure);
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IPostConfigureOptions<VoiceChatOptions>, PointGeminiAtEmulator>());
        return builder;
    }

    /// <summary>
    /// Falls back to the built-in emulator only when no Google credentials are configured: for the
    /// Developer API no <c>VoiceChat:Gemini:ApiKey</c>, for Vertex AI no project (neither
    /// <c>VoiceChat:Gemini:Project</c> nor <c>GOOGLE_CLOUD_PROJECT</c>). Then it does what
    /// <see cref="UseLiveApiEmulator"/> does and logs a warning; otherwise the options are left alone
    /// and no emulator is started. For hosts that must run offline on a developer's machine, like the
    /// sample and the <c>voicechat-host</c> template; tests use <see cref="UseLiveApiEmulator"/>.
    /// </summary>
    /// <param name="builder">The VoiceChat builder.</param>
    /// <param name="configure">Configures the emulator's options, when it is used.</param>
    /// <returns>The builder, for chaining.</returns>
    public static IVoiceChatBuilder UseLiveApiEmulatorWithoutCredentials(this IVoiceChatBuilder builder, Action<LiveApiEmulatorOptions>? configure = null)
    {
        AddEmulator(builder, configure);
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IPostConfigureOptions<VoiceChatOptions>, PointGeminiAtEmulatorWithoutCredentials>());
        return builder;
    }

    private static void AddEmulator(IVoiceChatBuilder builder, Action<LiveApiEmulatorOptions>? configure)
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
    }

    private static void Point(GeminiOptions gemini, LiveApiEmulator emulator)
    {
        gemini.BaseUrl = emulator.BaseUrl;
        gemini.Backend = GeminiBackend.DeveloperApi;
        gemini.ApiKey = "emulator";
    }

    private static bool HasCredentials(GeminiOptions gemini) => gemini.Backend == GeminiBackend.VertexAI
        ? !string.IsNullOrEmpty(gemini.Project) || !string.IsNullOrEmpty(Environment.GetEnvironmentVariable("GOOGLE_CLOUD_PROJECT"))
        : !string.IsNullOrEmpty(gemini.ApiKey);

    private sealed class PointGeminiAtEmulator(LiveApiEmulator emulator) : IPostConfigureOptions<VoiceChatOptions>
    {
        public void PostConfigure(string? name, VoiceChatOptions options) => Point(options.Gemini, emulator);
    }

    /// <summary>Resolves (and so starts) the emulator only when it is needed.</summary>
    private sealed class PointGeminiAtEmulatorWithoutCredentials(IServiceProvider services) : IPostConfigureOptions<VoiceChatOptions>
    {
        private int _warned;

        public void PostConfigure(string? name, VoiceChatOptions options)
        {
            if (HasCredentials(options.Gemini))
            {
                return;
            }

            var emulator = services.GetRequiredService<LiveApiEmulator>();
            Point(options.Gemini, emulator);

            // Options are built more than once (IOptions and IOptionsMonitor): say it once.
            if (Interlocked.Exchange(ref _warned, 1) == 0 && services.GetService<ILoggerFactory>() is { } loggers)
            {
                EmulatorLog.NoCredentials(loggers.CreateLogger<LiveApiEmulator>(), emulator.BaseUrl);
            }
        }
    }
}
