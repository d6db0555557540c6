using System.Diagnostics.CodeAnalysis;
using Microsoft.Extensions.DependencyInjection.Extensions;
using VoiceChat;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Session events for the app: transcripts, tool calls, usage, start and end.</summary>
public static class VoiceChatBuilderSessionEventExtensions
{
    /// <summary>
    /// Adds a handler of every session's events, a singleton resolved from the app's services
    /// (use <see cref="IServiceScopeFactory"/> in it for scoped services such as a database context).
    /// Adding the same type twice adds it once. Without any handler, sessions queue no events at all.
    /// </summary>
    /// <typeparam name="THandler">The handler type.</typeparam>
    /// <param name="builder">The VoiceChat builder.</param>
    /// <returns>The builder.</returns>
    public static IVoiceChatBuilder AddSessionEventHandler<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicConstructors)] THandler>(this IVoiceChatBuilder builder)
        where THandler : class, IVoiceSessionEventHandler
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IVoiceSessionEventHandler, THandler>());
        return builder;
    }
}
