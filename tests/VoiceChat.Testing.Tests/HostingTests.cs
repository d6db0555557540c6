using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace VoiceChat.Testing.Tests;

public sealed class HostingTests
{
    private sealed class Builder(IServiceCollection services) : IVoiceChatBuilder
    {
        public IServiceCollection Services { get; } = services;
    }

    [Fact]
    public async Task UseLiveApiEmulator_points_gemini_at_a_started_emulator_that_is_disposed_with_the_provider()
    {
        var services = new ServiceCollection();
        services.AddOptions<VoiceChatOptions>().Configure(o => o.Gemini.ApiKey = "real-key");
        new Builder(services).UseLiveApiEmulator(o => o.ExpectedApiKey = "emulator");
        LiveApiEmulator emulator;
        await using (var provider = services.BuildServiceProvider())
        {
            var options = provider.GetRequiredService<IOptions<VoiceChatOptions>>().Value;
            emulator = provider.GetRequiredService<LiveApiEmulator>();

            options.Gemini.BaseUrl.Should().Be(emulator.BaseUrl);
            options.Gemini.Backend.Should().Be(GeminiBackend.DeveloperApi);
            options.Gemini.ApiKey.Should().Be("emulator");
            await using var client = await LiveTestClient.ConnectDeveloperAsync(emulator, options.Gemini.ApiKey!);
            await client.SendAsync($$$"""{"setup":{"model":"models/{{{LiveTestClient.Model25}}}"}}""");
            (await client.NextAsync(_ => true)).Has("setupComplete").Should().BeTrue();
        }

        var connect = () => LiveTestClient.ConnectDeveloperAsync(emulator);
        await connect.Should().ThrowAsync<Exception>();
    }

    [Fact]
    public async Task UseLiveApiEmulatorWithoutCredentials_leaves_a_configured_api_key_alone()
    {
        var services = new ServiceCollection();
        var googleUrl = new Uri("https://generativelanguage.example/");
        services.AddOptions<VoiceChatOptions>().Configure(o =>
        {
            o.Gemini.ApiKey = "real-key";
            o.Gemini.BaseUrl = googleUrl;
        });
        new Builder(services).UseLiveApiEmulatorWithoutCredentials();
        await using var provider = services.BuildServiceProvider();

        var options = provider.GetRequiredService<IOptions<VoiceChatOptions>>().Value;

        options.Gemini.ApiKey.Should().Be("real-key");
        options.Gemini.BaseUrl.Should().Be(googleUrl);
    }

    [Fact]
    public async Task UseLiveApiEmulatorWithoutCredentials_leaves_vertex_with_a_project_alone()
    {
        var services = new ServiceCollection();
        services.AddOptions<VoiceChatOptions>().Configure(o =>
        {
            o.Gemini.Backend = GeminiBackend.VertexAI;
            o.Gemini.Project = "my-project";
        });
        new Builder(services).UseLiveApiEmulatorWithoutCredentials();
        await using var provider = services.BuildServiceProvider();

        var options = provider.GetRequiredService<IOptions<VoiceChatOptions>>().Value;

        options.Gemini.Backend.Should().Be(GeminiBackend.VertexAI);
        options.Gemini.BaseUrl.Should().BeNull();
    }

    [Fact]
    public async Task UseLiveApiEmulatorWithoutCredentials_points_gemini_at_the_emulator_when_no_key_is_set()
    {
        var services = new ServiceCollection();
        services.AddOptions<VoiceChatOptions>();
        new Builder(services).UseLiveApiEmulatorWithoutCredentials();
        await using var provider = services.BuildServiceProvider();

        var options = provider.GetRequiredService<IOptions<VoiceChatOptions>>().Value;

        options.Gemini.BaseUrl.Should().Be(provider.GetRequiredService<LiveApiEmulator>().BaseUrl);
        options.Gemini.ApiKey.Should().Be("emulator");
    }
}
