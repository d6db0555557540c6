using System.Diagnostics.CodeAnalysis;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using VoiceChat.AspNetCore;
using VoiceChat.AspNetCore.Authentication;
using VoiceChat.AspNetCore.Hosting;

namespace Microsoft.AspNetCore.Builder;

/// <summary>Maps the VoiceChat WebSocket endpoint.</summary>
public static class VoiceChatEndpointRouteBuilderExtensions
{
    /// <summary>
    /// Maps the voice endpoint: a WebSocket speaking the VoiceChat client protocol v1. Unless
    /// <c>VoiceChat:AllowAnonymous</c> is true it requires an authenticated user, accepting the app's
    /// default authentication scheme and, with <c>AddVoiceChat().AddAuthentication()</c>, bearer tokens and
    /// tickets; the session's user is then the authenticated principal. Chain <c>.RequireAuthorization(…)</c>,
    /// <c>.RequireRateLimiting(…)</c> or <c>.RequireCors(…)</c> as for any endpoint.
    /// </summary>
    /// <param name="endpoints">The application's endpoints.</param>
    /// <param name="pattern">The route, <c>/voice</c> by default.</param>
    /// <returns>A builder for endpoint conventions.</returns>
    /// <exception cref="InvalidOperationException">
    /// <c>services.AddVoiceChat()</c> was not called, or anonymous access is not allowed and no authentication is configured.
    /// </exception>
    public static VoiceChatEndpointConventionBuilder MapVoiceChat(this IEndpointRouteBuilder endpoints, [StringSyntax("Route")] string pattern = "/voice")
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        ArgumentNullException.ThrowIfNull(pattern);

        if (endpoints.ServiceProvider.GetService<VoiceChatMarkerService>() is null)
        {
            throw new InvalidOperationException(
                "Unable to find the VoiceChat services. Call 'builder.Services.AddVoiceChat()' before 'app.MapVoiceChat(...)'.");
        }

        var handler = endpoints.ServiceProvider.GetRequiredService<VoiceChatRequestHandler>();

        // The endpoint brings its own WebSocket middleware (as SignalR's does), so hosts need no UseWebSockets().
        var pipeline = endpoints.CreateApplicationBuilder();
        var authentication = VoiceChatEndpointAuthentication.ForVoiceEndpoint(endpoints.ServiceProvider, pipeline, pattern);
        pipeline.UseWebSockets();
        pipeline.Run(handler.HandleAsync);

        var builder = endpoints.Map(pattern, pipeline.Build()).WithDisplayName("VoiceChat " + pattern);
        authentication(builder);
        return new VoiceChatEndpointConventionBuilder(builder);
    }

    /// <summary>
    /// Maps the ticket endpoint for browsers, which cannot set headers on a WebSocket: a <c>POST</c> by an
    /// authenticated user (the app's default scheme, or a VoiceChat bearer token) answers
    /// <c>{"ticket":"…","expires_in":30}</c>; the browser then opens the voice endpoint with <c>?ticket=…</c>.
    /// A ticket is bound to that user, valid for <c>VoiceChat:Authentication:TicketLifetime</c> and used once.
    /// Chain <c>.RequireAuthorization(…)</c> for further policies, or <c>.RequireCors(…)</c>.
    /// </summary>
    /// <param name="endpoints">The application's endpoints.</param>
    /// <param name="pattern">The route, <c>/voice/ticket</c> by default.</param>
    /// <returns>A builder for endpoint conventions.</returns>
    /// <exception cref="InvalidOperationException"><c>AddVoiceChat().AddAuthentication()</c> was not called, or no scheme can authenticate a user.</exception>
    public static VoiceChatEndpointConventionBuilder MapVoiceChatTickets(this IEndpointRouteBuilder endpoints, [StringSyntax("Route")] string pattern = "/voice/ticket")
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        ArgumentNullException.ThrowIfNull(pattern);

        if (endpoints.ServiceProvider.GetService<VoiceChatTicketService>() is not { } tickets)
        {
            throw new InvalidOperationException(
                "Unable to find the VoiceChat ticket services. Call 'builder.Services.AddVoiceChat().AddAuthentication()' before 'app.MapVoiceChatTickets(...)'.");
        }

        var builder = endpoints.MapPost(pattern, new VoiceChatTicketEndpoint(tickets).HandleAsync).WithDisplayName("VoiceChat tickets " + pattern);
        VoiceChatEndpointAuthentication.ForTicketEndpoint(endpoints.ServiceProvider, builder, pattern);
        return new VoiceChatEndpointConventionBuilder(builder);
    }
}
