using System.Net;
using VoiceChat.Tests.Infrastructure;

namespace VoiceChat.Tests.Hosting;

/// <summary>A browser page of another site cannot open sessions with the user's cookies; native apps and the host's own pages can.</summary>
public sealed class OriginTests : IAsyncLifetime
{
    private VoiceChatTestHost _host = null!;

    public async Task InitializeAsync() => _host = await VoiceChatTestHost.StartAsync(o => o.AllowedOrigins = ["https://app.example.com"]);

    public async Task DisposeAsync() => await _host.DisposeAsync();

    [Theory]
    [InlineData("https://evil.example.net")]
    [InlineData("https://app.example.com.evil.example.net")]
    [InlineData("http://app.example.com")]
    [InlineData("null")]
    public async Task A_page_of_another_origin_is_refused_with_403_before_the_upgrade(string origin)
    {
        (await _host.RefusedUpgradeAsync(o => o.SetRequestHeader("Origin", origin))).Should().Be(HttpStatusCode.Forbidden);
        _host.Emulator.Connections.Should().BeEmpty();
    }

    [Fact]
    public async Task A_configured_origin_the_host_itself_and_a_client_without_origin_start_sessions()
    {
        var ownOrigin = $"http://{_host.BaseUrl.Authority}";
        foreach (var origin in new[] { "https://app.example.com", ownOrigin, null })
        {
            await using var client = await _host.ConnectAsync(o =>
            {
                if (origin is not null)
                {
                    o.SetRequestHeader("Origin", origin);
                }
            });

            (await client.StartAsync()).GetProperty("session_id").GetString().Should().NotBeNullOrEmpty(origin);
        }
    }

    [Fact]
    public async Task Start_up_fails_on_an_origin_with_a_path()
    {
        var starting = () => VoiceChatTestHost.StartAsync(o => o.AllowedOrigins = ["https://app.example.com/voice"]);

        await starting.Should().ThrowAsync<Microsoft.Extensions.Options.OptionsValidationException>()
            .WithMessage("*VoiceChat:AllowedOrigins*");
    }
}
