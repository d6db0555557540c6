using System.Security.Claims;

namespace VoiceChat.Live;

/// <summary>
/// What a session asks of the upstream model when it starts. <paramref name="IsUserVerified"/> says
/// whether <paramref name="UserId"/> comes from the authenticated principal (true) or only from the client's <c>user_id</c>.
/// <paramref name="Video"/>: the client declared that it sends camera frames, and the server takes them.
/// </summary>
internal sealed record LiveSessionRequest(
    string SessionId,
    string UserId,
    string? Voice,
    string? Language,
    int InputSampleRate,
    IReadOnlyDictionary<string, string> Metadata,
    ClaimsPrincipal? User,
    bool IsUserVerified,
    bool Video = false);
