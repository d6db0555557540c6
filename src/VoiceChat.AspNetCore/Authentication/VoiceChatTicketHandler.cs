using System.Security.Claims;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace VoiceChat.AspNetCore.Authentication;

/// <summary>
/// The ticket scheme: browsers cannot set headers on a WebSocket, so the upgrade carries a ticket from
/// <c>MapVoiceChatTickets</c> in its <c>ticket</c> query parameter. Only endpoints whose authorisation
/// names this scheme (the voice endpoint) read it.
/// </summary>
internal sealed class VoiceChatTicketHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory logger,
    UrlEncoder encoder,
    VoiceChatTicketService tickets)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        if (!Request.Query.TryGetValue(VoiceChatAuthenticationDefaults.TicketQueryParameter, out var values))
        {
            return AuthenticateResult.NoResult();
        }

        // The failure message is logged by the framework: it says why, never what the ticket was.
        var (userId, failure) = values.Count == 1
            ? await tickets.RedeemAsync(values[0], Context.RequestAborted).ConfigureAwait(false)
            : (null, "More than one ticket.");
        if (userId is null)
        {
            return AuthenticateResult.Fail(failure);
        }

        var identity = new ClaimsIdentity([new Claim(ClaimTypes.NameIdentifier, userId)], Scheme.Name);
        return AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), Scheme.Name));
    }
}
