namespace VoiceChat.AspNetCore.Hosting;

/// <summary>Registered by <c>AddVoiceChat</c>, so <c>MapVoiceChat</c> can fail fast with a clear message without it.</summary>
internal sealed class VoiceChatMarkerService;
