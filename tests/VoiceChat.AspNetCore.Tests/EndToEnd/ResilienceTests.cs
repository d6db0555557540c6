using System.Net.WebSockets;
using Microsoft.Extensions.DependencyInjection;
using VoiceChat.Sessions.Resume;
using VoiceChat.Testing;
using VoiceChat.Tests.Infrastructure;

namespace VoiceChat.Tests.EndToEnd;

/// <summary>What the client sees when the model service rotates connections or fails: through the whole relay.</summary>
public sealed class ResilienceTests
{
    [Fact]
    public async Task A_go_away_rotation_mid_conversation_loses_no_microphone_audio_and_shows_no_error()
    {
        await using var host = await VoiceChatTestHost.StartAsync(emulator: o =>
        {
            o.GoAwayAfter = TimeSpan.FromSeconds(1.5);
            o.GoAwayTimeLeft = TimeSpan.FromSeconds(1);
        });
        await using var client = await host.ConnectAsync();
        await client.StartAsync();

        // About five seconds of conversation streamed as a microphone would: 40 ms frames in real time.
        var sent = new MemoryStream();
        for (var turn = 0; turn < 3; turn++)
        {
            var utterance = Pcm.Concat(Pcm.Speech(0.8, 250 + (100 * turn)), Pcm.Silence(0.9));
            for (var offset = 0; offset < utterance.Length; offset += 1280)
            {
                var frame = utterance.AsMemory(offset, Math.Min(1280, utterance.Length - offset));
                await client.SendAudioAsync(frame);
                sent.Write(frame.Span);
                await Task.Delay(40);
            }
        }

        await client.SendJsonAsync("""{"type":"ping","id":"done"}""");
        await client.WaitForAsync("pong");

        var connections = host.Emulator.Connections.OrderBy(c => c.Id).ToList();
        connections.Should().HaveCountGreaterThan(1, "the emulator asked the relay to go away");
        connections.Skip(1).Should().OnlyContain(c => c.IsResumption);
        await Eventually.TrueAsync(() => connections.Sum(c => c.AudioBytesReceived) >= sent.Length);
        connections.SelectMany(c => c.GetReceivedAudio()).Should().Equal(sent.ToArray(), "every microphone byte reaches the model, in order");
        client.Messages.Should().NotContain(m => m.GetProperty("type").GetString() == "error");
    }

    [Fact]
    public async Task A_go_away_that_arrives_mid_reply_rotates_after_the_reply_without_cutting_it()
    {
        await using var host = await VoiceChatTestHost.StartAsync(emulator: o => o.GoAwayAfter = null);
        await using var client = await host.ConnectAsync();
        await client.StartAsync();
        var first = await host.Emulator.WaitForConnectionAsync();
        await client.StreamAsync(Pcm.Concat(Pcm.Speech(2.0, 300), Pcm.Silence(0.8)));
        await Eventually.TrueAsync(() => client.Audio.Length > 0); // the reply has begun

        await first.SendGoAwayAsync(TimeSpan.FromSeconds(30)); // time enough to finish the turn

        await client.WaitForAsync("turn_complete");
        first.CompletedTurns.Should().Be(1, "the reply was finished on the connection that began it");
        await Eventually.TrueAsync(() => host.Emulator.Connections.Count == 2); // then the rotation
        host.Emulator.Connections[1].IsResumption.Should().BeTrue();
        await first.Closed.WaitAsync(VoiceClient.DefaultWait);
        client.Messages.Should().NotContain(m => m.GetProperty("type").GetString() == "interrupted" || m.GetProperty("type").GetString() == "error");
        client.Audio.Length.Should().BeGreaterThan(2 * 48_000 * 9 / 10, "the whole 2 s reply at 24 kHz arrived");
    }

    [Fact]
    public async Task A_1011_mid_turn_after_a_resumption_handle_is_invisible_to_the_client()
    {
        await using var host = await VoiceChatTestHost.StartAsync(emulator: o =>
        {
            o.MidTurnFault = EmulatorFault.InternalError;
            o.MidTurnFaultTurn = 2;
        });
        await using var client = await host.ConnectAsync();
        await client.StartAsync();

        await client.StreamAsync(Pcm.Concat(Pcm.Speech(1.0, 300), Pcm.Silence(1.0)));
        await client.WaitForAsync("turn_complete");
        await client.StreamAsync(Pcm.Concat(Pcm.Speech(1.0, 400), Pcm.Silence(1.0)));
        await Eventually.TrueAsync(() => host.Emulator.Connections.Count >= 2);
        await client.StreamAsync(Pcm.Concat(Pcm.Speech(1.0, 500), Pcm.Silence(1.0)));
        await client.WaitForAsync("turn_complete");

        client.Messages.Should().NotContain(m => m.GetProperty("type").GetString() == "error");
        host.Emulator.Connections.OrderBy(c => c.Id).Last().IsResumption.Should().BeTrue();
    }

    [Fact]
    public async Task A_1011_before_any_resumption_handle_is_reported_instead_of_pretending()
    {
        await using var host = await VoiceChatTestHost.StartAsync(emulator: o =>
        {
            o.ResumptionHandleAtSetup = false;
            o.MidTurnFault = EmulatorFault.InternalError;
            o.MidTurnFaultTurn = 1;
        });
        await using var client = await host.ConnectAsync();
        await client.StartAsync();

        await client.StreamAsync(Pcm.Concat(Pcm.Speech(1.0), Pcm.Silence(1.0)));

        var error = await client.WaitForAsync("error");
        error.GetProperty("fatal").GetBoolean().Should().BeTrue();
        var code = error.GetProperty("code").GetString()!;
        code.Should().BeOneOf(VoiceChatErrorCodes.UpstreamUnavailable, VoiceChatErrorCodes.UpstreamInternal);
        ((int?)await client.WaitForCloseAsync()).Should().Be(VoiceChatCloseCodes.ForError(code));
        error.GetProperty("message").GetString().Should().NotContain("Internal error occurred", "the service's own text stays in the server's logs");
    }

    [Fact]
    public async Task Without_a_resume_window_a_client_that_vanishes_mid_stream_ends_its_session_and_its_model_connection()
    {
        await using var host = await VoiceChatTestHost.StartAsync(o => o.Resume.Window = TimeSpan.Zero);
        await using var client = await host.ConnectAsync();
        await client.StartAsync();
        var upstream = await host.Emulator.WaitForConnectionAsync();
        await client.SendAudioAsync(Pcm.Speech(0.2));
        await Eventually.TrueAsync(() => upstream.AudioBytesReceived > 0);

        client.Socket.Abort(); // No close frame: only the connection's abort says the client is gone.

        await upstream.Closed.WaitAsync(TimeSpan.FromSeconds(30)); // the session closes its model connection
        await using var next = await host.ConnectAsync();
        await next.StartAsync();
    }

    [Fact]
    public async Task A_client_that_vanishes_and_does_not_resume_loses_its_model_connection_when_the_window_ends()
    {
        var window = TimeSpan.FromSeconds(1);
        await using var host = await VoiceChatTestHost.StartAsync(o => o.Resume.Window = window);
        var conversations = host.App.Services.GetRequiredService<VoiceConversationDirectory>();
        await using var client = await host.ConnectAsync();
        await client.StartAsync();
        var upstream = await host.Emulator.WaitForConnectionAsync();
        await client.SendAudioAsync(Pcm.Speech(0.2));
        await Eventually.TrueAsync(() => upstream.AudioBytesReceived > 0);

        client.Socket.Abort();

        await upstream.Closed.WaitAsync(TimeSpan.FromSeconds(30)); // the window ends it
        await Eventually.TrueAsync(() => conversations.Count == 0);
    }

    [Fact]
    public async Task A_refused_setup_reaches_the_client_as_its_documented_error()
    {
        await using var host = await VoiceChatTestHost.StartAsync(configure: o => o.Gemini.Model = "gemini-does-not-exist");
        await using var client = await host.ConnectAsync();

        await client.SendJsonAsync("""{"type":"start_session","user_id":"u1"}""");

        var error = await client.WaitForAsync("error");
        error.GetProperty("code").GetString().Should().Be(VoiceChatErrorCodes.ModelNotFound);
        error.GetProperty("fatal").GetBoolean().Should().BeTrue();
        ((int?)await client.WaitForCloseAsync()).Should().Be(VoiceChatCloseCodes.ModelNotFound);
    }
}
