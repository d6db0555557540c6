using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using VoiceChat;
using VoiceChat.AspNetCore.Hosting;

namespace Microsoft.AspNetCore.RateLimiting;

/// <summary>Rate limiting of new voice sessions.</summary>
public static class VoiceChatRateLimiterOptionsExtensions
{
    /// <summary>
    /// Adds a rate limiting policy for the voice endpoint that limits session starts (WebSocket
    /// upgrades) to <see cref="VoiceChatOptions.MaxSessionStartsPerMinute"/> per caller: per user
    /// when the request is authenticated, otherwise per client IP address. Each caller has a token
    /// bucket: the whole minute's starts at once, then one more every minute / the limit. Apply it
    /// with <c>app.UseRateLimiter()</c> and <c>app.MapVoiceChat(…).RequireRateLimiting(policyName)</c>;
    /// set <see cref="RateLimiterOptions.RejectionStatusCode"/> to 429 for the usual refusal.
    /// </summary>
    /// <param name="options">The application's rate limiter options.</param>
    /// <param name="policyName">The policy's name, for <c>RequireRateLimiting</c>.</param>
    /// <returns>The options, for chaining.</returns>
    public static RateLimiterOptions AddVoiceChatPolicy(this RateLimiterOptions options, string policyName = "voicechat")
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentException.ThrowIfNullOrEmpty(policyName);

        return options.AddPolicy(policyName, static context =>
        {
            var startsPerMinute = context.RequestServices.GetRequiredService<IOptionsMonitor<VoiceChatOptions>>().CurrentValue.MaxSessionStartsPerMinute;
            var caller = VoiceChatRequestHandler.AuthenticatedUserId(context.User) is { } userId
                ? "user:" + userId
                : "ip:" + context.Connection.RemoteIpAddress;
            return RateLimitPartition.GetTokenBucketLimiter(caller, _ => new TokenBucketRateLimiterOptions
            {
                TokenLimit = startsPerMinute,
                TokensPerPeriod = 1,
                ReplenishmentPeriod = TimeSpan.FromMinutes(1) / startsPerMinute,
                QueueLimit = 0,
                AutoReplenishment = true,
            });
        });
    }
}
