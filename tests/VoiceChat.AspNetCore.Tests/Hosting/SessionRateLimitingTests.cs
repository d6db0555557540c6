using System.Net;
using System.Security.Claims;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.DependencyInjection;
using VoiceChat.Tests.Infrastructure;

namespace VoiceChat.Tests.Hosting;

/// <summary>Session starts per user and per address through ASP.NET Core rate limiting, wired as the sample and the template wire it.</summary>
public sealed class SessionRateLimitingTests
{
    private const string UserHeader = "X-Test-User";

    [Fact]
    public async Task Anonymous_starts_beyond_the_addresss_limit_get_429_before_the_upgrade()
    {
        await using var host = await StartAsync(perCaller: 2, perAddress: 60);

        await StartSessionAsync(host, userId: null);
        await StartSessionAsync(host, userId: null);

        (await host.RefusedUpgradeAsync()).Should().Be(HttpStatusCode.TooManyRequests);
        host.Emulator.Connections.Should().HaveCount(2);
    }

    [Fact]
    public async Task A_signed_in_user_is_limited_on_its_own_and_all_users_of_an_address_together()
    {
        await using var host = await StartAsync(perCaller: 2, perAddress: 3);

        await StartSessionAsync(host, "alice");
        await StartSessionAsync(host, "alice");
        (await host.RefusedUpgradeAsync(o => o.SetRequestHeader(UserHeader, "alice"))).Should().Be(HttpStatusCode.TooManyRequests, "alice's own limit");

        await StartSessionAsync(host, "bob");
        (await host.RefusedUpgradeAsync(o => o.SetRequestHeader(UserHeader, "carol"))).Should().Be(HttpStatusCode.TooManyRequests, "the address's limit");
        host.Emulator.Connections.Should().HaveCount(3);
    }

    private static Task<VoiceChatTestHost> StartAsync(int perCaller, int perAddress) => VoiceChatTestHost.StartAsync(
        o =>
        {
            o.MaxSessionStartsPerMinute = perCaller;
            o.MaxSessionStartsPerMinutePerAddress = perAddress;
        },
        services: (builder, _) => builder.Services.AddRateLimiter(o =>
        {
            o.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            o.AddVoiceChatPolicy("voice");
        }),
        map: app =>
        {
            // Stands in for authentication: the header names the signed-in user.
            app.Use((context, next) =>
            {
                if (context.Request.Headers.TryGetValue(UserHeader, out var user))
                {
                    context.User = new ClaimsPrincipal(new ClaimsIdentity([new Claim(ClaimTypes.NameIdentifier, user.ToString())], "test"));
                }

                return next(context);
            });
            app.UseRateLimiter();
            app.MapVoiceChat().RequireRateLimiting("voice");
        });

    private static async Task StartSessionAsync(VoiceChatTestHost host, string? userId)
    {
        await using var client = await host.ConnectAsync(o =>
        {
            if (userId is not null)
            {
                o.SetRequestHeader(UserHeader, userId);
            }
        });
        await client.StartAsync(userId ?? "anonymous-" + Guid.NewGuid().ToString("N"));
    }
}
