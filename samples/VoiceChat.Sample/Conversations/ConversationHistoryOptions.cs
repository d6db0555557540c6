namespace VoiceChat.Sample.Conversations;

/// <summary>Where the sample keeps its conversations (configuration section <c>Conversations</c>).</summary>
public sealed class ConversationHistoryOptions
{
    /// <summary>The configuration section.</summary>
    public const string SectionName = "Conversations";

    /// <summary>
    /// The SQLite database file. Default <c>voicechat-sample/conversations.db</c> in the system's temporary
    /// directory, which is writable in the container image too (its app directory is not, for the app's
    /// user). It is created with its folder when the first session starts. A relative path is taken from
    /// the content root.
    /// </summary>
    public string DatabasePath { get; set; } = Path.Combine(Path.GetTempPath(), "voicechat-sample", "conversations.db");
}
