using Google.Apis.Auth.OAuth2;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection.Extensions;
using VoiceChat;
using VoiceChat.Live;
using VoiceChat.Live.Gemini;
using VoiceChat.Tools;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Tools, session hooks and Google credentials for VoiceChat.</summary>
public static class VoiceChatBuilderLiveExtensions
{
    /// <summary>
    /// Adds a tool the model may call. It runs on the server in its own dependency-injection scope
    /// (parameters of type <see cref="IServiceProvider"/> receive the scope's services), with
    /// <c>VoiceChat:Gemini:ToolTimeout</c> as its time limit; its result goes back to the model as
    /// <c>{"output": …}</c>, a failure as <c>{"error": …}</c>. Create tools with <see cref="AIFunctionFactory"/>.
    /// </summary>
    /// <param name="builder">The VoiceChat builder.</param>
    /// <param name="tool">The tool. Its name may use letters, digits, <c>_ . : -</c>, at most 64 characters, and must be unique.</param>
    /// <returns>The builder.</returns>
    /// <exception cref="ArgumentException">The name is not valid, or another tool has it.</exception>
    public static IVoiceChatBuilder AddTool(this IVoiceChatBuilder builder, AIFunction tool) =>
        AddTool(builder, tool, new VoiceToolOptions());

    /// <summary>
    /// Adds a tool the model may call, as <see cref="AddTool(IVoiceChatBuilder, AIFunction)"/> does, run as
    /// <paramref name="options"/> say: with <see cref="VoiceToolOptions.NonBlocking"/> the model keeps talking
    /// while the tool runs and acts on its result as <see cref="VoiceToolOptions.Scheduling"/> says.
    /// </summary>
    /// <param name="builder">The VoiceChat builder.</param>
    /// <param name="tool">The tool. Its name may use letters, digits, <c>_ . : -</c>, at most 64 characters, and must be unique.</param>
    /// <param name="options">How the model runs the tool; read once, here.</param>
    /// <returns>The builder.</returns>
    /// <exception cref="ArgumentException">The name is not valid, another tool has it, or the scheduling is not defined.</exception>
    public static IVoiceChatBuilder AddTool(this IVoiceChatBuilder builder, AIFunction tool, VoiceToolOptions options)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(tool);
        ArgumentNullException.ThrowIfNull(options);
        if (!Enum.IsDefined(options.Scheduling))
        {
            throw new ArgumentException($"The scheduling {(int)options.Scheduling} is not one of {string.Join(", ", Enum.GetNames<VoiceToolScheduling>())}.", nameof(options));
        }

        if (ToolRegistry.ValidateName(tool.Name) is { } problem)
        {
            throw new ArgumentException(problem, nameof(tool));
        }

        foreach (var descriptor in builder.Services)
        {
            if (descriptor.ServiceType == typeof(ToolRegistration)
                && descriptor.ImplementationInstance is ToolRegistration existing
                && string.Equals(existing.Tool.Name, tool.Name, StringComparison.Ordinal))
            {
                throw new ArgumentException($"A tool named '{tool.Name}' is already added.", nameof(tool));
            }
        }

        builder.Services.AddSingleton(new ToolRegistration(tool, options.NonBlocking, options.Scheduling));
        return builder;
    }

    /// <summary>
    /// Adds a hook that runs when a session starts, before the model is connected: it sees the user,
    /// the session id and the client's <c>metadata</c>, and may set the session's system instruction,
    /// voice and language. Hooks run in the order they were added. A hook that throws ends the
    /// session with the error <c>internal_error</c>.
    /// </summary>
    /// <param name="builder">The VoiceChat builder.</param>
    /// <param name="configure">The hook.</param>
    /// <returns>The builder.</returns>
    public static IVoiceChatBuilder ConfigureSession(this IVoiceChatBuilder builder, Func<VoiceSessionSetupContext, CancellationToken, ValueTask> configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(configure);
        builder.Services.AddSingleton(new SessionSetupHook(configure));
        return builder;
    }

    /// <summary>
    /// Uses <paramref name="credential"/> for Vertex AI instead of Application Default Credentials or
    /// <c>VoiceChat:Gemini:CredentialsFile</c>. It is scoped to <c>cloud-platform</c> if it needs a scope.
    /// </summary>
    /// <param name="builder">The VoiceChat builder.</param>
    /// <param name="credential">The credential.</param>
    /// <returns>The builder.</returns>
    public static IVoiceChatBuilder UseGoogleCredential(this IVoiceChatBuilder builder, GoogleCredential credential)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(credential);
        builder.Services.RemoveAll<GoogleCredentialRegistration>();
        builder.Services.AddSingleton(new GoogleCredentialRegistration(credential));
        return builder;
    }
}
