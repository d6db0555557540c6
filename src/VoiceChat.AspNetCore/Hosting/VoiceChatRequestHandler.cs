using System.Net.WebSockets;
using System.Security.Claims;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using VoiceChat.AspNetCore.Transport;
using VoiceChat.Live;
using VoiceChat.Sessions;
using VoiceChat.Sessions.Events;
using VoiceChat.Sessions.Resume;

namespace VoiceChat.AspNetCore.Hosting;

/// <summary>The endpoint behind <c>MapVoiceChat</c>: accepts the WebSocket and runs one <see cref="VoiceSession"/> on it.</summary>
internal sealed partial class VoiceChatRequestHandler
{
    private readonly ILiveConnectionFactory _liveFactory;
    private readonly VoiceSessionRegistry _registry;
    private readonly VoiceConversationDirectory _conversations;
    private readonly IOptionsMonitor<VoiceChatOptions> _options;
    private readonly TimeProvider _time;
    private readonly ILogger _sessionLogger;
    private readonly SessionEventHub _events;
    private OriginPolicy? _origins;

    public VoiceChatRequestHandler(
        ILiveConnectionFactory liveFactory,
        VoiceSessionRegistry registry,
        VoiceConversationDirectory conversations,
        IOptionsMonitor<VoiceChatOptions> options,
        TimeProvider time,
        ILoggerFactory loggerFactory,
        SessionEventHub events)
    {
        _liveFactory = liveFactory;
        _registry = registry;
        _conversations = conversations;
        _options = options;
        _time = time;
        _sessionLogger = loggerFactory.CreateLogger("VoiceChat.Sessions.VoiceSession");
        _events = events;
    }

    public async Task HandleAsync(HttpContext context)
    {
        if (!context.WebSockets.IsWebSocketRequest)
        {
            context.Response.StatusCode = StatusCodes.Status400BadRequest;
            await context.Response.WriteAsync("This endpoint accepts WebSocket connections only (VoiceChat client protocol v1).", context.RequestAborted).ConfigureAwait(false);
            return;
        }

        // A browser sends the user's cookies with a WebSocket upgrade from any site's page. The policy
        // is made at the first request: the options are validated when the host starts, after MapVoiceChat.
        _origins ??= new OriginPolicy(_options.CurrentValue.AllowedOrigins);
        if (!_origins.IsAllowed(context.Request))
        {
            context.Response.StatusCode = StatusCodes.Status403Forbidden;
            return;
        }

        // Draining, or too many connections waiting for start_session: refused before the upgrade.
        if (!_registry.TryReservePending())
        {
            context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
            context.Response.Headers.RetryAfter = "1";
            return;
        }

        var options = _options.CurrentValue;
        WebSocket socket;
        try
        {
            socket = await context.WebSockets.AcceptWebSocketAsync(new WebSocketAcceptContext
            {
                KeepAliveInterval = options.KeepAliveInterval,
                KeepAliveTimeout = options.KeepAliveTimeout,
            }).ConfigureAwait(false);
        }
        catch
        {
            _registry.CancelReservation();
            throw;
        }

        using (socket)
        {
            using var transport = new WebSocketClientTransport(socket, context.RequestAborted);
            var session = new VoiceSession(transport, _liveFactory, _registry, _conversations, options, _time, _sessionLogger, context.User, AuthenticatedUserId(context.User), _events);
            await using (session.ConfigureAwait(false))
            {
                _registry.Add(session);
                try
                {
                    await session.RunAsync(context.RequestAborted).ConfigureAwait(false);
                }
                finally
                {
                    _registry.Remove(session);
                }
            }
        }
    }

    /// <summary>The authenticated user's id: the name identifier, else <c>sub</c>, else the name.</summary>
    internal static string? AuthenticatedUserId(ClaimsPrincipal? user)
    {
        if (user?.Identity?.IsAuthenticated != true)
        {
            return null;
        }

        return user.FindFirst(ClaimTypes.NameIdentifier)?.Value
            ?? user.FindFirst("sub")?.Value
            ?? user.Identity.Name;
    }
}
