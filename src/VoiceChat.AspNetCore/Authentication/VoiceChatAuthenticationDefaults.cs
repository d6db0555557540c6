namespace VoiceChat.AspNetCore;

/// <summary>The names of the authentication schemes that <c>AddAuthentication()</c> on the VoiceChat builder registers.</summary>
public static class VoiceChatAuthenticationDefaults
{
    /// <summary>The JwtBearer scheme: Firebase ID tokens or an OpenID Connect issuer's JWTs in <c>Authorization: Bearer</c>.</summary>
    public const string BearerScheme = "VoiceChatBearer";

    /// <summary>The ticket scheme: a single-use ticket from <c>MapVoiceChatTickets</c> in the WebSocket URL's <c>ticket</c> query parameter.</summary>
    public const string TicketScheme = "VoiceChatTicket";

    /// <summary>The query parameter of the voice endpoint's URL that carries a ticket.</summary>
    public const string TicketQueryParameter = "ticket";
}
