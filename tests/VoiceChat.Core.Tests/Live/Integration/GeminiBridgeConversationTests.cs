using VoiceChat.Live;
using VoiceChat.Testing;

namespace VoiceChat.Tests.Live.Integration;

/// <summary>The bridge over a real WebSocket against the emulator: whole turns.</summary>
public sealed class GeminiBridgeConversationTests
{
    [Fact]
    public async Task Audio_turn_gives_transcripts_24khz_audio_and_turn_complete()
    {
        await using var emulator = await LiveApiEmulator.StartAsync(new LiveApiEmulatorOptions { RealTimePacing = false });
        await using var services = LiveHarness.Services(emulator.BaseUrl);
        var (connection, events) = await LiveHarness.ConnectAsync(services);
        await using (connection)
        {
            var speech = LiveHarness.Tone(TimeSpan.FromSeconds(1));
            await LiveHarness.SendPacedAsync(connection, speech);
            await LiveHarness.SendPacedAsync(connection, new byte[32000]); // 1 s of silence ends the utterance

            var all = await events.WaitForKindAsync(LiveEventKind.TurnComplete);

            var upstream = emulator.Connections.Single();
            upstream.Path.Should().Be("/ws/google.ai.generativelanguage.v1beta.GenerativeService.BidiGenerateContent");
            upstream.ApiKey.Should().Be("test-key");
            upstream.Model.Should().Be("models/gemini-3.8-live");
            upstream.GetReceivedAudio().Should().Equal([.. speech, .. new byte[32000]]);

            var kinds = all.Select(e => e.Kind).ToList();
            var userParts = all.Where(e => e.Kind == LiveEventKind.InputTranscript && !e.Final).Select(e => e.Text).ToList();
            userParts.Should().NotBeEmpty();
            all.Single(e => e.Kind == LiveEventKind.InputTranscript && e.Final).Text.Should().Be(string.Concat(userParts));
            var modelParts = all.Where(e => e.Kind == LiveEventKind.OutputTranscript && !e.Final).Select(e => e.Text).ToList();
            modelParts.Should().NotBeEmpty();
            all.Single(e => e.Kind == LiveEventKind.OutputTranscript && e.Final).Text.Should().Be(string.Concat(modelParts));

            // The emulator answers with the user's own speech at 24 kHz: 1 s of it is 48,000 bytes.
            var audio = all.Where(e => e.Kind == LiveEventKind.Audio).Sum(e => e.Audio!.Length);
            audio.Should().BeGreaterThanOrEqualTo(48000 * 9 / 10);
            kinds.IndexOf(LiveEventKind.Audio).Should().BeLessThan(kinds.IndexOf(LiveEventKind.TurnComplete));
            kinds.Should().NotContain([LiveEventKind.Error, LiveEventKind.Closed, LiveEventKind.GoAway, LiveEventKind.ToolCall]);
            // Resumable handles reach the session, which keeps them so that another instance can take the conversation over.
            kinds.Should().Contain(LiveEventKind.ResumptionUpdate);

            await connection.CloseAsync(CancellationToken.None);
            var closed = await events.WaitForKindAsync(LiveEventKind.Closed);
            closed[^1].Error.Should().BeNull();
        }
    }

    [Theory]
    [InlineData("gemini-2.5-flash-native-audio-preview-12-2025")]
    [InlineData("gemini-3.1-flash-live-preview")]
    [InlineData("gemini-3.8-live")]
    public async Task Text_turn_is_answered(string model)
    {
        await using var emulator = await LiveApiEmulator.StartAsync(new LiveApiEmulatorOptions { RealTimePacing = false });
        await using var services = LiveHarness.Services(emulator.BaseUrl, o => o.Model = model);
        var (connection, events) = await LiveHarness.ConnectAsync(services);
        await using (connection)
        {
            await connection.SendTextAsync("What's the weather in Paris?", CancellationToken.None);

            var all = await events.WaitForKindAsync(LiveEventKind.TurnComplete);

            emulator.Connections.Single().TextsReceived.Should().Equal("What's the weather in Paris?");
            all.Should().Contain(e => e.Kind == LiveEventKind.OutputTranscript && e.Final);
            all.Should().NotContain(e => e.Kind == LiveEventKind.Error);
        }
    }

    [Fact]
    public async Task Activity_signals_and_stream_end_reach_the_service()
    {
        await using var emulator = await LiveApiEmulator.StartAsync(new LiveApiEmulatorOptions { RealTimePacing = false });
        await using var services = LiveHarness.Services(emulator.BaseUrl, o => o.ActivityDetection = ActivityDetectionMode.Manual);
        var (connection, events) = await LiveHarness.ConnectAsync(services);
        await using (connection)
        {
            await connection.SendActivityStartAsync(CancellationToken.None);
            await LiveHarness.SendPacedAsync(connection, LiveHarness.Tone(TimeSpan.FromMilliseconds(500)));
            await connection.SendActivityEndAsync(CancellationToken.None);
            await events.WaitForKindAsync(LiveEventKind.TurnComplete);
            await connection.SendAudioStreamEndAsync(CancellationToken.None);

            var upstream = emulator.Connections.Single();
            await events.WaitForAsync(_ => upstream.ActivitySignals.Count == 3, "three activity signals");
            upstream.ActivitySignals.Should().Equal(EmulatorActivitySignal.ActivityStart, EmulatorActivitySignal.ActivityEnd, EmulatorActivitySignal.AudioStreamEnd);
        }
    }
}
