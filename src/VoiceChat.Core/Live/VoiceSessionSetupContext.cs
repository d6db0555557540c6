using System.Security.Claims;

namespace VoiceChat;

/// <summary>
/// What a session hook (<c>ConfigureSession</c>) sees and may change when a session starts, before
/// the model is connected. The settings apply to the whole session, reconnections included.
/// </summary>
public sealed class VoiceSessionSetupContext
{
    internal VoiceSessionSetupContext(
        string sessionId,
        string userId,
        bool isUserVerified,
        ClaimsPrincipal? user,
        IReadOnlyDictionary<string, string> metadata,
        IServiceProvider services)
    {
        SessionId = sessionId;
        UserId = userId;
        IsUserVerified = isUserVerified;
        User = user;
        Metadata = metadata;
        Services = services;
    }

    /// <summary>The session's id (the client's <c>session_id</c>, or one the server made).</summary>
    public string SessionId { get; }

    /// <summary>
    /// Who is speaking: the authenticated user's identifier when the client authenticated (a bearer
    /// token, a ticket or the app's own scheme), else the client's <c>user_id</c>. See <see cref="IsUserVerified"/>.
    /// </summary>
    public string UserId { get; }

    /// <summary>
    /// True when <see cref="UserId"/> is the authenticated principal's identifier; false when it is only
    /// what an anonymous client claimed in <c>user_id</c> (possible only with <c>VoiceChat:AllowAnonymous</c>).
    /// Never load private data for an unverified user.
    /// </summary>
    public bool IsUserVerified { get; }

    /// <summary>The authenticated user, when the endpoint requires authentication.</summary>
    public ClaimsPrincipal? User { get; }

    /// <summary>The <c>metadata</c> of the client's <c>start_session</c> (empty when it sent none).</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }

    /// <summary>Services from a scope that lives while the hooks run (for example a database context).</summary>
    public IServiceProvider Services { get; }

    /// <summary>The system instruction for this session. Starts as <c>VoiceChat:Gemini:SystemInstruction</c>.</summary>
    public string? SystemInstruction { get; set; }

    /// <summary>The model's voice for this session. Starts as the client's <c>voice</c>, else <c>VoiceChat:Gemini:Voice</c>.</summary>
    public string? Voice { get; set; }

    /// <summary>The speech language for this session. Starts as the client's <c>language</c>, else <c>VoiceChat:Gemini:Language</c>.</summary>
    public string? Language { get; set; }
}
