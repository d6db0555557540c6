using System.Security.Claims;
using Microsoft.Extensions.DependencyInjection;
using VoiceChat.Live;
using VoiceChat.Testing;

namespace VoiceChat.Tests.Live.Integration;

/// <summary>A session's own voice and language are checked against the model before anything is sent to it.</summary>
public sealed class GeminiSessionSetupCheckTests
{
    private static LiveSessionRequest Request(string? voice = null, string? language = null) =>
        new("s1", "u1", voice, language, 16000, new Dictionary<string, string>(), new ClaimsPrincipal(new ClaimsIdentity()), IsUserVerified: false);

    private static async Task<LiveConnectionException> ConnectFailsAsync(ServiceProvider services, LiveSessionRequest request)
    {
        var factory = services.GetRequiredService<ILiveConnectionFactory>();
        var act = async () => await factory.ConnectAsync(request, CancellationToken.None);
        return (await act.Should().ThrowAsync<LiveConnectionException>()).Which;
    }

    [Fact]
    public async Task A_clients_voice_the_model_lacks_is_refused_before_connecting()
    {
        await using var emulator = await LiveApiEmulator.StartAsync();
        await using var services = LiveHarness.Services(emulator.BaseUrl, o => o.Model = "gemini-live-2.5-flash-preview");

        var failure = await ConnectFailsAsync(services, Request(voice: "Sulafat"));

        failure.Error.Code.Should().Be(VoiceChatErrorCodes.UpstreamInvalidArgument);
        failure.Error.Fatal.Should().BeTrue();
        failure.Error.Retriable.Should().BeFalse();
        failure.Error.Message.Should().Contain("'Sulafat'").And.Contain("'gemini-live-2.5-flash-preview'");
        emulator.Connections.Should().BeEmpty();
    }

    [Fact]
    public async Task A_voice_set_by_a_session_hook_is_checked_too()
    {
        await using var emulator = await LiveApiEmulator.StartAsync();
        await using var services = LiveHarness.Services(
            emulator.BaseUrl,
            o => o.Model = "gemini-live-2.5-flash-preview",
            build: b => b.ConfigureSession((context, _) =>
            {
                context.Voice = "Achernar";
                return ValueTask.CompletedTask;
            }));

        var failure = await ConnectFailsAsync(services, Request(voice: "Kore"));

        failure.Error.Message.Should().Contain("'Achernar'");
        emulator.Connections.Should().BeEmpty();
    }

    [Fact]
    public async Task A_language_that_is_no_language_code_is_refused_before_connecting()
    {
        await using var emulator = await LiveApiEmulator.StartAsync();
        await using var services = LiveHarness.Services(emulator.BaseUrl);

        var failure = await ConnectFailsAsync(services, Request(language: "en_US"));

        failure.Error.Code.Should().Be(VoiceChatErrorCodes.UpstreamInvalidArgument);
        failure.Error.Message.Should().Contain("'en_US'");
        emulator.Connections.Should().BeEmpty();
    }

    [Fact]
    public async Task A_voice_of_the_model_is_sent()
    {
        await using var emulator = await LiveApiEmulator.StartAsync(new LiveApiEmulatorOptions { RealTimePacing = false });
        await using var services = LiveHarness.Services(emulator.BaseUrl);

        var (connection, _) = await LiveHarness.ConnectAsync(services, Request(voice: "Sulafat", language: "de-DE"));
        await using (connection)
        {
            emulator.Connections.Single().SetupJson.Should().Contain("\"voiceName\":\"Sulafat\"").And.Contain("\"languageCode\":\"de-DE\"");
        }
    }
}
