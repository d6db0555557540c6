using System.Net;
using System.Net.WebSockets;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using VoiceChat.Tests.Infrastructure;

namespace VoiceChat.Tests.Hosting;

/// <summary>The sample server as a newcomer runs it: no Google credentials, so the built-in emulator answers.</summary>
public sealed class SampleServerTests : IAsyncLifetime
{
    private WebApplicationFactory<Program> _factory = null!;
    private Uri _baseUrl = null!;

    public Task InitializeAsync()
    {
        (_factory, _baseUrl) = SampleHost.Start(("VoiceChat:Gemini:ApiKey", string.Empty));
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _factory.DisposeAsync();

    [Theory]
    [InlineData("/voice")]
    [InlineData("/")]
    public async Task Completes_a_voice_turn_through_the_emulator(string path)
    {
        await using var client = await VoiceClient.ConnectAsync(new Uri($"ws://{_baseUrl.Authority}{path}"));
        await client.StartAsync();

        await client.StreamAsync(Pcm.Concat(Pcm.Speech(1.5), Pcm.Silence(1.0)));
        await client.WaitForAsync("turn_complete");

        client.Audio.Length.Should().BeGreaterThan(48_000);
        client.Messages.Should().Contain(m => m.GetProperty("type").GetString() == "transcript" && m.GetProperty("role").GetString() == "user");
    }

    [Theory]
    [InlineData("/health/live")]
    [InlineData("/health/ready")]
    [InlineData("/health/")]
    public async Task Health_endpoints_answer(string path)
    {
        using var http = new HttpClient { BaseAddress = _baseUrl };

        var response = await http.GetAsync(new Uri(path, UriKind.Relative));

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        (await response.Content.ReadAsStringAsync()).Should().Be("Healthy");
    }

    [Fact]
    public async Task A_plain_get_of_the_root_is_not_taken_by_the_voice_endpoint()
    {
        using var http = new HttpClient { BaseAddress = _baseUrl };

        var response = await http.GetAsync(new Uri("/", UriKind.Relative));

        response.StatusCode.Should().NotBe(HttpStatusCode.BadRequest);
    }
}

/// <summary>The sample deployed with real Google credentials in Production: it needs authentication or an explicit choice of anonymous access.</summary>
public sealed class SampleServerAuthenticationTests
{
    [Fact]
    public void With_credentials_in_Production_and_no_authentication_it_refuses_to_start_saying_what_to_set()
    {
        using var factory = new WebApplicationFactory<Program>().WithWebHostBuilder(b => b
            .UseEnvironment("Production")
            .UseSetting("VoiceChat:Gemini:ApiKey", "a-real-looking-key"));

        var starting = () => factory.Server;

        starting.Should().Throw<InvalidOperationException>()
            .Which.Message.Should().Contain("VoiceChat:Authentication:FirebaseProjectId").And.Contain("VoiceChat:AllowAnonymous");
    }

    [Fact]
    public void With_credentials_in_Production_and_Firebase_configured_it_starts()
    {
        using var factory = new WebApplicationFactory<Program>().WithWebHostBuilder(b => b
            .UseEnvironment("Production")
            .UseSetting("VoiceChat:Gemini:ApiKey", "a-real-looking-key")
            .UseSetting("VoiceChat:Authentication:FirebaseProjectId", "demo-voice"));

        var starting = () => factory.Server;

        starting.Should().NotThrow();
    }
}
