using System.Text.Json.Serialization;

namespace VoiceChat.Sample.Conversations;

/// <summary>Source-generated JSON for what the store keeps as JSON (the sample may be published with native AOT).</summary>
[JsonSerializable(typeof(Dictionary<string, string>))]
[JsonSerializable(typeof(UsageEntry))]
internal sealed partial class ConversationJson : JsonSerializerContext;
