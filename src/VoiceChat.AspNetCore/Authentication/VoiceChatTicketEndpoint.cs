using System.Text.Json;
using Microsoft.AspNetCore.Http;
using VoiceChat.AspNetCore.Hosting;

namespace VoiceChat.AspNetCore.Authentication;

/// <summary>The endpoint behind <c>MapVoiceChatTickets</c>: mints a ticket for the authenticated user.</summary>
internal sealed class VoiceChatTicketEndpoint(VoiceChatTicketService tickets)
{
    public async Task HandleAsync(HttpContext context)
    {
        // The endpoint requires an authenticated user; this guards an app that removed that requirement.
        if (VoiceChatRequestHandler.AuthenticatedUserId(context.User) is not { } userId)
        {
            context.Response.StatusCode = StatusCodes.Status401Unauthorized;
            return;
        }

        var (ticket, lifetime) = tickets.Mint(userId);
        context.Response.ContentType = "application/json";
        context.Response.Headers.CacheControl = "no-store";
        var writer = new Utf8JsonWriter(context.Response.BodyWriter);
        await using (writer.ConfigureAwait(false))
        {
            writer.WriteStartObject();
            writer.WriteString("ticket", ticket);
            writer.WriteNumber("expires_in", (int)lifetime.TotalSeconds);
            writer.WriteEndObject();
        }
    }
}
