using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.DependencyInjection;
using VoiceChat.Tests.Infrastructure;

namespace VoiceChat.Tests.Hosting;

/// <summary>Session starts per caller through ASP.NET Core rate limiting, wired as the sample and the template wire it.</summary>
public sealed class SessionRateLimitingTests
{
    [Fact]
    public async Task Starts_beyond_the_callers_limit_get_429_before_the_upgrade()
    {
        await using var host = await VoiceChatTestHost.StartAsync(
            o => o.MaxSessionStartsPerMinute = 2,
            services: (builder, _) => builder.Services.AddRateLimiter(o =>
            {
                o.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
                o.AddVoiceChatPolicy("voice");
            }),
            map: app =>
            {
                app.UseRateLimiter();
                app.MapVoiceChat().RequireRateLimiting("voice");
            });

        for (var i = 0; i < 2; i++)
        {
            await using var client = await host.ConnectAsync();
            await client.StartAsync($"user-{i}");
        }

        (await host.RefusedUpgradeAsync()).Should().Be(HttpStatusCode.TooManyRequests);
        host.Emulator.Connections.Should().HaveCount(2);
    }
}
