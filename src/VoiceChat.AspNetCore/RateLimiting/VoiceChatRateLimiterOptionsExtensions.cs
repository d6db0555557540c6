using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using VoiceChat;
using VoiceChat.AspNetCore.Hosting;
using VoiceChat.AspNetCore.RateLimiting;

namespace Microsoft.AspNetCore.RateLimiting;

/// <summary>Rate limiting of new voice sessions.</summary>
public static class VoiceChatRateLimiterOptionsExtensions
{
    /// <summary>
    /// Adds a rate limiting policy for the voice endpoint that limits session starts (WebSocket
    /// upgrades) per user and per client IP address: <see cref="VoiceChatOptions.MaxSessionStartsPerMinute"/>
    /// for each caller (the authenticated user, else the address) and
    /// <see cref="VoiceChatOptions.MaxSessionStartsPerMinutePerAddress"/> for each address, whoever
    /// signs in from it. Each is a token bucket: the whole minute's starts at once, then one more
    /// every minute / the limit. Apply it with <c>app.UseRateLimiter()</c> and
    /// <c>app.MapVoiceChat(…).RequireRateLimiting(policyName)</c>; set
    /// <see cref="RateLimiterOptions.RejectionStatusCode"/> to 429 for the usual refusal.
    /// </summary>
    /// <param name="options">The application's rate limiter options.</param>
    /// <param name="policyName">The policy's name, for <c>RequireRateLimiting</c>.</param>
    /// <returns>The options, for chaining.</returns>
    public static RateLimiterOptions AddVoiceChatPolicy(this RateLimiterOptions options, string policyName = "voicechat")
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentException.ThrowIfNullOrEmpty(policyName);

        // The framework's policy keeps one limiter per partition key; the key here is the pair of
        // caller and address, whose limiter takes a start from both of the shared limiters.
        SessionStartLimiter? limiter = null;
        return options.AddPolicy(policyName, context =>
        {
            var starts = LazyInitializer.EnsureInitialized(
                ref limiter,
                () => new SessionStartLimiter(context.RequestServices.GetRequiredService<IOptionsMonitor<VoiceChatOptions>>().CurrentValue));
            var address = context.Connection.RemoteIpAddress?.ToString() ?? string.Empty;
            var caller = VoiceChatRequestHandler.AuthenticatedUserId(context.User) is { } userId
                ? "user:" + userId
                : "address:" + address;
            return RateLimitPartition.Get(new SessionStarter(caller, address), starts.For);
        });
    }
}
