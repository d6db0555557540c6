using System.Globalization;
using System.Security.Claims;
using System.Text;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;
using VoiceChat.AspNetCore;

namespace VoiceChat.Sample.Conversations;

/// <summary>
/// <c>GET /conversations</c>: the latest conversations with their turns, as a plain HTML page. A signed-in
/// user sees only their own. Without sign-in the page answers only where anonymous sessions are allowed
/// (Development, or the model is the emulator), and then shows everyone's: it is a developer's view.
/// </summary>
internal static class ConversationsPage
{
    private const int Shown = 20;

    public static async Task HandleAsync(HttpContext context)
    {
        // VoiceChat's schemes are not the default one: a bearer token (Firebase, OpenID Connect) is checked here.
        var user = context.User;
        if (user.Identity?.IsAuthenticated != true
            && await context.RequestServices.GetRequiredService<IAuthenticationSchemeProvider>().GetSchemeAsync(VoiceChatAuthenticationDefaults.BearerScheme) is not null
            && await context.AuthenticateAsync(VoiceChatAuthenticationDefaults.BearerScheme) is { Succeeded: true } bearer)
        {
            user = bearer.Principal;
        }

        string? userId = null;
        if (user.Identity?.IsAuthenticated == true)
        {
            userId = user.FindFirst(ClaimTypes.NameIdentifier)?.Value ?? user.FindFirst("sub")?.Value ?? user.Identity.Name;
        }
        else if (!context.RequestServices.GetRequiredService<IOptions<VoiceChatOptions>>().Value.AllowAnonymous)
        {
            context.Response.StatusCode = StatusCodes.Status401Unauthorized;
            return;
        }

        var store = context.RequestServices.GetRequiredService<ConversationStore>();
        var conversations = await store.ReadRecentAsync(userId, Shown, context.RequestAborted);
        context.Response.ContentType = "text/html; charset=utf-8";
        context.Response.Headers.CacheControl = "no-store";
        await context.Response.WriteAsync(Render(conversations), context.RequestAborted);
    }

    internal static string Render(IReadOnlyList<ConversationRecord> conversations)
    {
        var html = new StringBuilder();
        html.Append("""
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><title>Conversations</title>
            <meta name="viewport" content="width=device-width, initial-scale=1"><link rel="stylesheet" href="/app.css">
            <style>main { max-width: 60rem; margin: 0 auto; padding: 1rem; } .conversation { border-top: 1px solid #ccd; } .turns li.tool, .turns li.interrupted { opacity: .7; }</style></head>
            <body><main><h1>Conversations</h1>
            """);
        if (conversations.Count == 0)
        {
            html.Append("<p>No conversation yet.</p>");
        }

        foreach (var c in conversations)
        {
            html.Append(CultureInfo.InvariantCulture, $"""
                <section class="conversation" data-session="{Encode(c.SessionId)}">
                <h2>{Encode(c.SessionId)}</h2>
                <p>User {Encode(c.UserId)}{(c.UserVerified ? string.Empty : " (unverified)")}, started {c.StartedAt:u}, {(c.EndedAt is null ? "running" : $"ended {c.EndedAt:u} ({Encode(c.EndReason)})")}.
                {c.Duration.TotalSeconds:0.0} s; audio {c.InputAudio.TotalSeconds:0.0} s in, {c.OutputAudio.TotalSeconds:0.0} s out;
                tokens {c.PromptTokens} prompt, {c.ResponseTokens} response, {c.TotalTokens} total.</p>
                """);
            if (c.Metadata.Count > 0)
            {
                html.Append("<p>Metadata: ").AppendJoin(", ", c.Metadata.Select(m => $"{Encode(m.Key)}={Encode(m.Value)}")).Append("</p>");
            }

            html.Append("<ol class=\"turns\">");
            foreach (var entry in c.Entries.Where(e => e.Kind != "usage"))
            {
                html.Append(CultureInfo.InvariantCulture, $"<li class=\"{entry.Kind}\"><b>{entry.Kind}</b> {Encode(entry.Text)}</li>");
            }

            html.Append("</ol></section>");
        }

        html.Append("</main></body></html>");
        return html.ToString();
    }

    private static string Encode(string? text) => HtmlEncoder.Default.Encode(text ?? string.Empty);
}
