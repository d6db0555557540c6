using Microsoft.Extensions.Options;
using VoiceChat.Tests.Infrastructure;

namespace VoiceChat.Tests.Hosting;

/// <summary>What the model does not accept stops the host at start-up, or refuses the session, before Google sees it.</summary>
public sealed class ModelCapabilityTests
{
    [Fact]
    public async Task An_option_the_model_does_not_accept_stops_the_host_at_start_up()
    {
        var starting = () => VoiceChatTestHost.StartAsync(o =>
        {
            o.Gemini.Model = "gemini-3.1-flash-live-preview";
            o.Gemini.ThinkingBudget = 0;
        });

        (await starting.Should().ThrowAsync<OptionsValidationException>())
            .WithMessage("*VoiceChat:Gemini:ThinkingBudget*'gemini-3.1-flash-live-preview'*");
    }

    [Fact]
    public async Task A_clients_voice_the_model_does_not_have_is_a_documented_error_and_google_is_not_asked()
    {
        await using var host = await VoiceChatTestHost.StartAsync(o => o.Gemini.Model = "gemini-live-2.5-flash-preview");
        await using var client = await host.ConnectAsync();

        await client.SendJsonAsync("""{"type":"start_session","user_id":"u1","voice":"Sulafat"}""");

        var error = await client.WaitForAsync("error");
        error.GetProperty("code").GetString().Should().Be(VoiceChatErrorCodes.UpstreamInvalidArgument);
        error.GetProperty("message").GetString().Should().Contain("Sulafat");
        ((int?)await client.WaitForCloseAsync()).Should().Be(VoiceChatCloseCodes.UpstreamInvalidArgument);
        host.Emulator.Connections.Should().BeEmpty();
    }
}
