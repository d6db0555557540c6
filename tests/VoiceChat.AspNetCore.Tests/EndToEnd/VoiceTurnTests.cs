using System.Net.WebSockets;
using System.Text.Json;
using VoiceChat.Tests.Infrastructure;

namespace VoiceChat.Tests.EndToEnd;

/// <summary>Client → relay → emulator over real sockets: a whole conversation.</summary>
public sealed class VoiceTurnTests : IAsyncLifetime
{
    private VoiceChatTestHost _host = null!;

    public async Task InitializeAsync() => _host = await VoiceChatTestHost.StartAsync();

    public async Task DisposeAsync() => await _host.DisposeAsync();

    [Fact]
    public async Task Start_session_is_answered_with_session_started()
    {
        await using var client = await _host.ConnectAsync();

        var started = await client.StartAsync("u1", ""","session_id":"s1","metadata":{"app":"test"}""");

        started.GetProperty("session_id").GetString().Should().Be("s1");
        started.GetProperty("resume_token").GetString().Should().NotBeNullOrEmpty();
        started.GetProperty("input_sample_rate").GetInt32().Should().Be(16000);
        started.GetProperty("output_sample_rate").GetInt32().Should().Be(24000);
        started.GetProperty("resumed").GetBoolean().Should().BeFalse();
    }

    [Fact]
    public async Task The_server_makes_a_session_id_when_the_client_sends_none()
    {
        await using var first = await _host.ConnectAsync();
        await using var second = await _host.ConnectAsync();

        var a = (await first.StartAsync()).GetProperty("session_id").GetString();
        var b = (await second.StartAsync()).GetProperty("session_id").GetString();

        a.Should().NotBeNullOrEmpty();
        b.Should().NotBeNullOrEmpty().And.NotBe(a);
    }

    [Fact]
    public async Task A_spoken_turn_gets_transcripts_and_24_kHz_audio_back()
    {
        await using var client = await _host.ConnectAsync();
        await client.StartAsync();

        await client.StreamAsync(Pcm.Concat(Pcm.Speech(2.0, 300), Pcm.Silence(1.0)));
        await client.WaitForAsync("turn_complete");

        var transcripts = client.Messages.Where(m => m.GetProperty("type").GetString() == "transcript").ToList();
        var user = transcripts.Where(t => t.GetProperty("role").GetString() == "user").ToList();
        var assistant = transcripts.Where(t => t.GetProperty("role").GetString() == "assistant").ToList();
        user.Should().Contain(t => t.GetProperty("final").GetBoolean() && t.GetProperty("text").GetString()!.Length > 0);
        assistant.Should().Contain(t => t.GetProperty("final").GetBoolean() && t.GetProperty("text").GetString()!.Length > 0);

        // The emulator speaks the user's 2 s utterance back at 24 kHz: 2 s × 24000 × 2 bytes.
        var audio = client.Audio.ToArray();
        audio.Length.Should().BeInRange(80_000, 110_000);
        Pcm.EstimateFrequency(audio, 24000).Should().BeApproximately(300, 30);
        client.Messages.Last().GetProperty("type").GetString().Should().Be("turn_complete");
        _host.Emulator.Connections.Single().AudioBytesReceived.Should().Be(3 * 32000);
    }

    [Fact]
    public async Task Speaking_over_the_model_interrupts_it()
    {
        await using var client = await _host.ConnectAsync();
        await client.StartAsync();
        await client.StreamAsync(Pcm.Concat(Pcm.Speech(3.0), Pcm.Silence(0.8)));

        // Wait until the model is speaking, then talk over it.
        while ((await client.NextAsync()).Audio is null)
        {
        }

        await client.StreamAsync(Pcm.Concat(Pcm.Speech(1.0, 500), Pcm.Silence(0.8)));

        await client.WaitForAsync("interrupted");
    }

    [Fact]
    public async Task A_typed_turn_is_answered()
    {
        await using var client = await _host.ConnectAsync();
        await client.StartAsync();

        await client.SendJsonAsync("""{"type":"text","text":"What's the weather in Paris?"}""");
        await client.WaitForAsync("turn_complete");

        client.Messages.Should().Contain(m => m.GetProperty("type").GetString() == "transcript" && m.GetProperty("role").GetString() == "assistant");
        client.Audio.Length.Should().BeGreaterThan(0);
        _host.Emulator.Connections.Single().TextsReceived.Should().Contain("What's the weather in Paris?");
    }

    [Fact]
    public async Task Audio_as_base64_json_is_relayed_like_binary_frames()
    {
        await using var client = await _host.ConnectAsync();
        await client.StartAsync();
        var pcm = Pcm.Concat(Pcm.Speech(1.0, 400), Pcm.Silence(1.0));

        for (var offset = 0; offset < pcm.Length; offset += 3200)
        {
            var chunk = Convert.ToBase64String(pcm, offset, Math.Min(3200, pcm.Length - offset));
            await client.SendJsonAsync($$"""{"type":"audio","data":"{{chunk}}"}""");
        }

        await client.WaitForAsync("turn_complete");
        Pcm.EstimateFrequency(client.Audio.ToArray(), 24000).Should().BeApproximately(400, 40);
    }

    [Fact]
    public async Task Ping_is_answered_with_pong()
    {
        await using var client = await _host.ConnectAsync();
        await client.StartAsync();

        await client.SendJsonAsync("""{"type":"ping","id":"abc"}""");

        var pong = await client.WaitForAsync("pong");
        pong.GetProperty("id").GetString().Should().Be("abc");
    }

    [Fact]
    public async Task End_session_ends_with_session_ended_and_close_1000()
    {
        await using var client = await _host.ConnectAsync();
        await client.StartAsync();

        await client.SendJsonAsync("""{"type":"end_session"}""");

        var ended = await client.WaitForAsync("session_ended");
        ended.GetProperty("reason").GetString().Should().Be("client_ended");
        (await client.WaitForCloseAsync()).Should().Be(WebSocketCloseStatus.NormalClosure);
        await _host.Emulator.Connections.Single().Closed.WaitAsync(VoiceClient.DefaultWait);
    }

    [Fact]
    public async Task A_client_that_closes_its_socket_without_end_session_leaves_its_session_waiting_for_a_resume()
    {
        var client = await _host.ConnectAsync();
        var token = (await client.StartAsync()).GetProperty("resume_token").GetString()!;
        var upstream = await _host.Emulator.WaitForConnectionAsync();

        await client.CloseAsync();
        (await client.WaitForCloseAsync()).Should().Be(WebSocketCloseStatus.NormalClosure);
        await client.DisposeAsync();

        await using var back = await _host.ConnectAsync();
        (await back.StartAsync("u1", $$""","resume_token":"{{token}}" """)).GetProperty("resumed").GetBoolean().Should().BeTrue();
        upstream.IsOpen.Should().BeTrue("the same model connection carries on");
        await back.SendJsonAsync("""{"type":"end_session"}""");
        await upstream.Closed.WaitAsync(VoiceClient.DefaultWait);
    }

    [Fact]
    public async Task Without_a_resume_window_a_client_that_closes_its_socket_ends_the_model_connection_too()
    {
        await using var host = await VoiceChatTestHost.StartAsync(o => o.Resume.Window = TimeSpan.Zero);
        var client = await host.ConnectAsync();
        await client.StartAsync();
        var upstream = await host.Emulator.WaitForConnectionAsync();

        await client.CloseAsync();
        (await client.WaitForCloseAsync()).Should().Be(WebSocketCloseStatus.NormalClosure);
        await client.DisposeAsync();

        await upstream.Closed.WaitAsync(VoiceClient.DefaultWait);
    }

    [Fact]
    public async Task Voice_and_language_from_start_session_reach_the_model_setup()
    {
        await using var client = await _host.ConnectAsync();
        await client.StartAsync("u1", ""","voice":"Kore","language":"de-DE" """);

        var setup = JsonDocument.Parse(_host.Emulator.Connections.Single().SetupJson!).RootElement.GetProperty("setup");
        setup.GetProperty("generationConfig").GetProperty("speechConfig").GetRawText().Should().Contain("Kore").And.Contain("de-DE");
    }
}
