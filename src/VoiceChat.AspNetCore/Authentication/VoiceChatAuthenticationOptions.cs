namespace VoiceChat.AspNetCore;

/// <summary>
/// Who may open a voice session, bound from the configuration section <c>VoiceChat:Authentication</c>
/// by <c>AddAuthentication()</c> on the VoiceChat builder. docs/configuration.md describes each option.
/// </summary>
public sealed class VoiceChatAuthenticationOptions
{
    /// <summary>The configuration section the options are bound from.</summary>
    public const string SectionName = "VoiceChat:Authentication";

    /// <summary>
    /// The Firebase project whose Authentication ID tokens are accepted as bearer tokens (issuer
    /// <c>https://securetoken.google.com/&lt;project&gt;</c>, audience the project). The user is the token's <c>sub</c>.
    /// </summary>
    public string? FirebaseProjectId { get; set; }

    /// <summary>The OpenID Connect issuer whose JWTs are accepted as bearer tokens (any issuer; ignored when <see cref="FirebaseProjectId"/> is set).</summary>
    public string? Authority { get; set; }

    /// <summary>The audience a bearer token must be issued for (with <see cref="Authority"/>).</summary>
    public string? Audience { get; set; }

    /// <summary>How long a ticket from <c>MapVoiceChatTickets</c> stays valid. Default 30 s.</summary>
    public TimeSpan TicketLifetime { get; set; } = TimeSpan.FromSeconds(30);
}
