using Microsoft.Extensions.Logging;
using VoiceChat.Tests.Infrastructure;

namespace VoiceChat.Tests.Abuse;

/// <summary>Nothing secret reaches the logs, and nothing a client sends can forge a log line.</summary>
public sealed class LogSafetyTests
{
    private const string ApiKey = "AIzaSy-not-a-real-key-7f3c9e1b5d";

    [Fact]
    public async Task A_whole_session_logged_at_trace_shows_neither_the_api_key_nor_the_resume_token()
    {
        var logs = new LogCapture();
        await using var host = await VoiceChatTestHost.StartAsync(
            o => o.Gemini.ApiKey = ApiKey,
            emulator: o => o.ExpectedApiKey = ApiKey,
            services: (builder, _) =>
            {
                builder.Logging.SetMinimumLevel(LogLevel.Trace);
                builder.Logging.AddProvider(logs);
            });

        string resumeToken;
        await using (var first = await host.ConnectAsync())
        {
            resumeToken = (await first.StartAsync("alice")).GetProperty("resume_token").GetString()!;
            await first.SendJsonAsync("""{"type":"end_session"}""");
            await first.WaitForCloseAsync();
        }

        await using (var second = await host.ConnectAsync())
        {
            await second.SendJsonAsync("""{"type":"start_session","user_id":"alice\nINFO: FORGED admin signed in"}""");
            (await second.WaitForAsync("error")).GetProperty("code").GetString().Should().Be(VoiceChatErrorCodes.InvalidMessage);
            await second.StartAsync("alice", $$""","resume_token":"{{resumeToken}}","session_id":"s-2" """);
            await second.StreamAsync(Pcm.Concat(Pcm.Speech(1.2), Pcm.Silence(1.0)));
            await second.WaitForAsync("turn_complete");
            await second.SendJsonAsync("""{"type":"text","text":"hello\r\nINFO: FORGED"}""");
            await second.SendJsonAsync("""{"type":"end_session"}""");
            await second.WaitForCloseAsync();
        }

        await host.DisposeAsync();

        logs.Entries.Should().Contain(e => e.Contains("s-2", StringComparison.Ordinal), "the session was logged at all");
        logs.Entries.Should().NotContain(e => e.Contains(ApiKey, StringComparison.Ordinal));
        logs.Entries.Should().NotContain(e => e.Contains(resumeToken, StringComparison.Ordinal));
        logs.Entries.Should().NotContain(e => e.Contains("FORGED", StringComparison.Ordinal));
    }
}
