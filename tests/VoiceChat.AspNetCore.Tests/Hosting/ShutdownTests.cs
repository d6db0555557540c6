using System.Net;
using System.Net.WebSockets;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.Extensions.DependencyInjection;
using VoiceChat.Sessions;
using VoiceChat.Tests.Infrastructure;

namespace VoiceChat.Tests.Hosting;

public sealed class ShutdownTests
{
    [Fact]
    public async Task Stopping_the_host_sends_going_away_and_closes_with_1001()
    {
        var host = await VoiceChatTestHost.StartAsync();
        await using var client = await host.ConnectAsync();
        await client.StartAsync();
        var upstream = await host.Emulator.WaitForConnectionAsync();

        var stopping = host.DisposeAsync().AsTask();

        var goingAway = await client.WaitForAsync("going_away");
        goingAway.GetProperty("reason").GetString().Should().Be("server_shutting_down");
        (await client.WaitForCloseAsync()).Should().Be(WebSocketCloseStatus.EndpointUnavailable);
        await stopping;
        upstream.IsOpen.Should().BeFalse();
    }

    [Fact]
    public async Task A_connection_that_has_not_started_yet_is_told_to_go_away_too()
    {
        var host = await VoiceChatTestHost.StartAsync();
        await using var client = await host.ConnectAsync();

        var stopping = host.DisposeAsync().AsTask();

        await client.WaitForAsync("going_away");
        (await client.WaitForCloseAsync()).Should().Be(WebSocketCloseStatus.EndpointUnavailable);
        await stopping;
    }

    [Fact]
    public async Task While_draining_readiness_fails_and_new_upgrades_get_503()
    {
        await using var host = await VoiceChatTestHost.StartAsync(map: app =>
        {
            app.MapVoiceChat();
            app.MapHealthChecks("/health/ready", new HealthCheckOptions { Predicate = c => c.Tags.Contains("ready") });
        });
        using var http = new HttpClient { BaseAddress = host.BaseUrl };
        (await http.GetAsync(new Uri("/health/ready", UriKind.Relative))).StatusCode.Should().Be(HttpStatusCode.OK);

        await host.App.Services.GetRequiredService<VoiceSessionRegistry>().DrainAsync(CancellationToken.None);

        (await http.GetAsync(new Uri("/health/ready", UriKind.Relative))).StatusCode.Should().Be(HttpStatusCode.ServiceUnavailable);
        using var socket = new ClientWebSocket();
        socket.Options.CollectHttpResponseDetails = true;
        var connecting = () => socket.ConnectAsync(host.VoiceUrl, CancellationToken.None);
        await connecting.Should().ThrowAsync<WebSocketException>();
        socket.HttpStatusCode.Should().Be(HttpStatusCode.ServiceUnavailable);
    }

    [Fact]
    public async Task A_plain_http_request_to_the_voice_endpoint_gets_400()
    {
        await using var host = await VoiceChatTestHost.StartAsync();
        using var http = new HttpClient { BaseAddress = host.BaseUrl };

        var response = await http.GetAsync(new Uri("/voice", UriKind.Relative));

        response.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        (await response.Content.ReadAsStringAsync()).Should().Contain("WebSocket");
    }

    [Fact]
    public void MapVoiceChat_without_AddVoiceChat_fails_with_a_clear_message()
    {
        var builder = WebApplication.CreateSlimBuilder();
        using var app = builder.Build();

        var mapping = () => app.MapVoiceChat();

        mapping.Should().Throw<InvalidOperationException>().WithMessage("*AddVoiceChat()*");
    }

    [Fact]
    public async Task Invalid_options_stop_the_host_at_start_up_with_the_key_named()
    {
        var starting = () => VoiceChatTestHost.StartAsync(o => o.MaxConcurrentSessions = 0);

        (await starting.Should().ThrowAsync<Microsoft.Extensions.Options.OptionsValidationException>())
            .WithMessage("*VoiceChat:MaxConcurrentSessions*");
    }
}
