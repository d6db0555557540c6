using System.Diagnostics.CodeAnalysis;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using VoiceChat.AspNetCore;
using VoiceChat.AspNetCore.Hosting;

namespace Microsoft.AspNetCore.Builder;

/// <summary>Maps the VoiceChat WebSocket endpoint.</summary>
public static class VoiceChatEndpointRouteBuilderExtensions
{
    /// <summary>
    /// Maps the voice endpoint: a WebSocket speaking the VoiceChat client protocol v1. Chain
    /// <c>.RequireAuthorization()</c>, <c>.RequireRateLimiting(…)</c> or <c>.RequireCors(…)</c> as for
    /// any endpoint; with authorisation, the session's user is the authenticated principal.
    /// </summary>
    /// <param name="endpoints">The application's endpoints.</param>
    /// <param name="pattern">The route, <c>/voice</c> by default.</param>
    /// <returns>A builder for endpoint conventions.</returns>
    /// <exception cref="InvalidOperationException"><c>services.AddVoiceChat()</c> was not called.</exception>
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
        pipeline.UseWebSockets();
        pipeline.Run(handler.HandleAsync);

        var builder = endpoints.Map(pattern, pipeline.Build()).WithDisplayName("VoiceChat " + pattern);
        return new VoiceChatEndpointConventionBuilder(builder);
    }
}
