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
}
