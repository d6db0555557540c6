namespace VoiceChat.Testing;

/// <summary>A local server that speaks the Gemini Live wire protocol.</summary>
public sealed class LiveApiEmulator
{
}
