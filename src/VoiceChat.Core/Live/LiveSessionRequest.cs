using System.Security.Claims;

namespace VoiceChat.Live;

/// <summary>What a session asks of the upstream model when it starts.</summary>
internal sealed record LiveSessionRequest(
    string SessionId,
    string UserId,
    string? Voice,
    string? Language,
    int InputSampleRate,
    IReadOnlyDictionary<string, string> Metadata,
    ClaimsPrincipal? User);
