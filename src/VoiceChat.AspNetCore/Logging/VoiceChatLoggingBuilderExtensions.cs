using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging.Console;
using VoiceChat.AspNetCore.Logging;

namespace Microsoft.Extensions.Logging;

/// <summary>Console logs for Google Cloud Logging.</summary>
public static class VoiceChatLoggingBuilderExtensions
{
    /// <summary>The name of the console formatter <see cref="AddVoiceChatCloudLogging"/> registers.</summary>
    public const string CloudLoggingFormatterName = "voicechat-cloud";

    /// <summary>
    /// Registers the console formatter <c>voicechat-cloud</c>, which writes each entry as one JSON line
    /// that Cloud Logging (Cloud Run, GKE) reads: <c>severity</c>, <c>message</c>, the current trace as
    /// <c>logging.googleapis.com/trace</c> (<c>projects/PROJECT/traces/TRACE</c>, the project from
    /// <c>GOOGLE_CLOUD_PROJECT</c>, else <c>VoiceChat:Gemini:Project</c>) and
    /// <c>logging.googleapis.com/spanId</c>, <c>sessionId</c>, and the exception as <c>stack_trace</c>.
    /// It is used where the configuration selects it, <c>Logging:Console:FormatterName</c> =
    /// <c>voicechat-cloud</c> (the container image sets <c>Logging__Console__FormatterName</c>), so
    /// logs stay readable text on a developer's machine.
    /// </summary>
    /// <param name="builder">The application's logging.</param>
    /// <returns>The same builder.</returns>
    public static ILoggingBuilder AddVoiceChatCloudLogging(this ILoggingBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        // Registered by hand: AddConsoleFormatter<,> binds its options by reflection, which trimming breaks.
        builder.AddConsole();
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<ConsoleFormatter, CloudLoggingConsoleFormatter>());
        builder.Services.AddOptions<CloudLoggingFormatterOptions>().Configure<IConfiguration>((options, configuration) =>
            options.ProjectId ??= Environment.GetEnvironmentVariable("GOOGLE_CLOUD_PROJECT") is { Length: > 0 } project
                ? project
                : configuration["VoiceChat:Gemini:Project"]);
        return builder;
    }
}
