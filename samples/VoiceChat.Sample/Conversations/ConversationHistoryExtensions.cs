using VoiceChat;
using VoiceChat.Sample.Conversations;

namespace Microsoft.Extensions.DependencyInjection
{
    /// <summary>The sample's conversation history: session events kept in SQLite.</summary>
    public static class ConversationHistoryServiceCollectionExtensions
    {
        /// <summary>
        /// Keeps every session's transcripts, tool calls, usage, start and end in SQLite
        /// (<c>Conversations:DatabasePath</c>), through a session event handler.
        /// </summary>
        public static IVoiceChatBuilder AddConversationHistory(this IVoiceChatBuilder builder)
        {
            builder.Services.AddOptions<ConversationHistoryOptions>().BindConfiguration(ConversationHistoryOptions.SectionName);
            builder.Services.AddSingleton<ConversationStore>();
            return builder.AddSessionEventHandler<ConversationRecorder>();
        }
    }
}

namespace Microsoft.AspNetCore.Builder
{
    /// <summary>The sample's conversation history page.</summary>
    public static class ConversationHistoryEndpointExtensions
    {
        /// <summary>Maps the page of the latest conversations (see <see cref="ConversationsPage"/> for who sees what).</summary>
        public static IEndpointConventionBuilder MapConversationHistory(this IEndpointRouteBuilder endpoints, string pattern = "/conversations") =>
            endpoints.MapGet(pattern, new RequestDelegate(ConversationsPage.HandleAsync));
    }
}
