using System.Text.Json;

namespace VoiceChat.Testing.Tests;

public sealed class ConversationTests
{
    private const string Transcripts = ""","inputAudioTranscription":{},"outputAudioTranscription":{}""";

    [Fact]
    public async Task An_utterance_is_transcribed_and_answered_with_its_own_audio_at_24_khz()
    {
        await using var emulator = await Emulators.StartAsync();
        await using var client = await LiveTestClient.StartAsync(emulator, Transcripts);

        await client.StreamAudioAsync(TestAudio.Utterance(TimeSpan.FromSeconds(2)));
        var messages = await client.CollectUntilAsync(m => m.IsTurnComplete);

        var input = messages.Select(m => m.Transcription(true)).Where(t => t is not null).Select(t => t!.Value).ToList();
        string.Concat(input.Select(t => t.Text)).Should().Be("[heard 2.0 s of audio]");
        input.Should().HaveCountGreaterThan(1, "transcripts arrive as fragments");
        input[^1].Finished.Should().BeTrue();

        var audio = messages.Where(m => m.Audio is not null).ToList();
        audio.Should().HaveCountGreaterThan(5, "the reply is streamed in chunks");
        audio.Should().OnlyContain(m => m.AudioMimeType == "audio/pcm;rate=24000");
        var bytes = audio.Sum(m => m.Audio!.Length);
        bytes.Should().BeInRange(2 * 48000 - 4800, 2 * 48000 + 4800, "2 s at 24 kHz PCM16, within a tenth of a second");

        string.Concat(messages.Select(m => m.Transcription(false)?.Text)).Should().Be("Turn 1: I heard 2.0 seconds of audio.");
        var generationComplete = messages.FindIndex(m => m.IsContentFlag("generationComplete"));
        generationComplete.Should().BeGreaterThan(messages.FindLastIndex(m => m.Audio is not null));
        generationComplete.Should().Be(messages.Count - 2);

        var usage = messages[^1].Root.GetProperty("usageMetadata");
        usage.GetProperty("promptTokenCount").GetInt32().Should().BeGreaterThan(0);
        usage.GetProperty("responseTokenCount").GetInt32().Should().BeGreaterThan(0);
        usage.GetProperty("totalTokenCount").GetInt32().Should().Be(usage.GetProperty("promptTokenCount").GetInt32() + usage.GetProperty("responseTokenCount").GetInt32());
        usage.TryGetProperty("candidatesTokenCount", out _).Should().BeFalse();

        var connection = emulator.Connections[0];
        connection.CompletedTurns.Should().Be(1);
    }

    [Fact]
    public async Task The_received_audio_is_recorded_in_order()
    {
        await using var emulator = await Emulators.StartAsync();
        await using var client = await LiveTestClient.StartAsync(emulator);
        var pcm = TestAudio.Utterance(TimeSpan.FromSeconds(1));

        await client.StreamAudioAsync(pcm);
        await client.NextAsync(m => m.IsTurnComplete);

        var connection = emulator.Connections[0];
        connection.AudioBytesReceived.Should().Be(pcm.Length);
        connection.GetReceivedAudio().Should().Equal(pcm);
    }

    [Fact]
    public async Task Vertex_usage_uses_candidates_names()
    {
        await using var emulator = await Emulators.StartAsync();
        await using var client = await LiveTestClient.StartAsync(emulator, vertex: true, model: "gemini-live-2.5-flash-native-audio");

        await client.SendAsync("""{"realtimeInput":{"text":"hi"}}""");
        var done = await client.NextAsync(m => m.IsTurnComplete);

        var usage = done.Root.GetProperty("usageMetadata");
        usage.GetProperty("candidatesTokenCount").GetInt32().Should().BeGreaterThan(0);
        usage.TryGetProperty("candidatesTokensDetails", out _).Should().BeTrue();
        usage.TryGetProperty("responseTokenCount", out _).Should().BeFalse();
    }

    [Fact]
    public async Task Transcripts_are_only_sent_when_requested()
    {
        await using var emulator = await Emulators.StartAsync();
        await using var client = await LiveTestClient.StartAsync(emulator);

        await client.StreamAudioAsync(TestAudio.Utterance(TimeSpan.FromSeconds(0.5)));
        var messages = await client.CollectUntilAsync(m => m.IsTurnComplete);

        messages.Should().Contain(m => m.Audio != null);
        messages.Should().NotContain(m => m.Transcription(true) != null || m.Transcription(false) != null);
    }

    [Fact]
    public async Task Speech_during_the_reply_interrupts_it_and_becomes_the_next_turn()
    {
        await using var emulator = await Emulators.StartAsync();
        await using var client = await LiveTestClient.StartAsync(emulator, Transcripts);

        await client.StreamAudioAsync(TestAudio.Utterance(TimeSpan.FromSeconds(3)));
        await client.NextAsync(m => m.Audio is not null);
        await client.StreamAudioAsync(TestAudio.Utterance(TimeSpan.FromSeconds(1)));

        var interrupted = await client.CollectUntilAsync(m => m.IsContentFlag("interrupted"));
        interrupted.Should().NotContain(m => m.IsContentFlag("generationComplete") || m.IsTurnComplete);
        var next = await client.NextAsync(_ => true);
        while (next.Has("sessionResumptionUpdate") || next.Audio is not null)
        {
            next = await client.NextAsync(_ => true);
        }

        next.IsTurnComplete.Should().BeTrue("turnComplete follows interrupted, without generationComplete");
        var second = await client.CollectUntilAsync(m => m.IsTurnComplete);
        string.Concat(second.Select(m => m.Transcription(true)?.Text)).Should().Be("[heard 1.0 s of audio]");
        string.Concat(second.Select(m => m.Transcription(false)?.Text)).Should().StartWith("Turn 2:");
        second.Should().Contain(m => m.IsContentFlag("generationComplete"));
    }

    [Fact]
    public async Task A_realtime_text_turn_is_answered_with_audio_and_an_echoing_transcript()
    {
        await using var emulator = await Emulators.StartAsync();
        await using var client = await LiveTestClient.StartAsync(emulator, Transcripts, model: LiveTestClient.Model31);

        await client.SendAsync("""{"realtimeInput":{"text":"What is the weather?"}}""");
        var messages = await client.CollectUntilAsync(m => m.IsTurnComplete);

        messages.Should().Contain(m => m.Audio != null);
        string.Concat(messages.Select(m => m.Transcription(false)?.Text)).Should().Be("Turn 1: you said \"What is the weather?\".");
        messages.Should().NotContain(m => m.Transcription(true) != null);
        emulator.Connections[0].TextsReceived.Should().Equal("What is the weather?");
    }

    [Fact]
    public async Task Client_content_with_turn_complete_is_answered_on_2_5()
    {
        await using var emulator = await Emulators.StartAsync();
        await using var client = await LiveTestClient.StartAsync(emulator, Transcripts);

        await client.SendAsync("""{"clientContent":{"turns":[{"role":"user","parts":[{"text":"context"}]}],"turnComplete":false}}""");
        await client.SendAsync("""{"clientContent":{"turns":[{"role":"user","parts":[{"text":"Hello"}]}],"turnComplete":true}}""");
        var messages = await client.CollectUntilAsync(m => m.IsTurnComplete);

        string.Concat(messages.Select(m => m.Transcription(false)?.Text)).Should().Contain("\"Hello\"");
        emulator.Connections[0].TextsReceived.Should().Equal("context", "Hello");
    }

    [Fact]
    public async Task Text_modality_answers_with_text_parts()
    {
        await using var emulator = await Emulators.StartAsync();
        await using var client = await LiveTestClient.StartAsync(emulator, ""","generationConfig":{"responseModalities":["TEXT"]}""");

        await client.SendAsync("""{"realtimeInput":{"text":"hi"}}""");
        var messages = await client.CollectUntilAsync(m => m.IsTurnComplete);

        messages.Should().NotContain(m => m.Audio != null);
        var text = string.Concat(messages.Select(m => m.ServerContent is { } c && c.TryGetProperty("modelTurn", out var t) ? t.GetProperty("parts")[0].GetProperty("text").GetString() : null));
        text.Should().Be("Turn 1: you said \"hi\".");
    }

    [Fact]
    public async Task Audio_stream_end_flushes_a_pending_utterance()
    {
        await using var emulator = await Emulators.StartAsync(o => o.SilenceDuration = TimeSpan.FromSeconds(30));
        await using var client = await LiveTestClient.StartAsync(emulator, Transcripts);

        await client.StreamAudioAsync(TestAudio.Speech(TimeSpan.FromSeconds(1)));
        await client.SendAsync("""{"realtimeInput":{"audioStreamEnd":true}}""");
        var messages = await client.CollectUntilAsync(m => m.IsTurnComplete);

        string.Concat(messages.Select(m => m.Transcription(true)?.Text)).Should().Be("[heard 1.0 s of audio]");
        emulator.Connections[0].ActivitySignals.Should().Equal(EmulatorActivitySignal.AudioStreamEnd);
    }

    [Fact]
    public async Task Manual_activity_delimits_the_utterance_and_audio_outside_it_is_ignored()
    {
        await using var emulator = await Emulators.StartAsync();
        await using var client = await LiveTestClient.StartAsync(emulator, ""","realtimeInputConfig":{"automaticActivityDetection":{"disabled":true}},"inputAudioTranscription":{}""");

        await client.StreamAudioAsync(TestAudio.Utterance(TimeSpan.FromSeconds(1)));
        await client.SendAsync("""{"realtimeInput":{"activityStart":{}}}""");
        await client.StreamAudioAsync(TestAudio.Concat(TestAudio.Speech(TimeSpan.FromSeconds(1)), TestAudio.Silence(TimeSpan.FromSeconds(0.5))));
        await client.SendAsync("""{"realtimeInput":{"activityEnd":{}}}""");
        var messages = await client.CollectUntilAsync(m => m.IsTurnComplete);

        string.Concat(messages.Select(m => m.Transcription(true)?.Text)).Should().Be("[heard 1.5 s of audio]");
        messages.Where(m => m.Audio != null).Sum(m => m.Audio!.Length).Should().Be(36000 * 2);
        var connection = emulator.Connections[0];
        connection.ActivitySignals.Should().Equal(EmulatorActivitySignal.ActivityStart, EmulatorActivitySignal.ActivityEnd);
        connection.CompletedTurns.Should().Be(1);
    }

    [Fact]
    public async Task Other_input_sample_rates_are_resampled_to_24_khz()
    {
        await using var emulator = await Emulators.StartAsync();
        await using var client = await LiveTestClient.StartAsync(emulator);

        await client.StreamAudioAsync(TestAudio.Utterance(TimeSpan.FromSeconds(1), rate: 8000), rate: 8000);
        var messages = await client.CollectUntilAsync(m => m.IsTurnComplete);

        messages.Where(m => m.Audio != null).Sum(m => m.Audio!.Length).Should().BeInRange(48000 - 2400, 48000 + 2400);
    }

    [Fact]
    public async Task Echo_mode_answers_every_chunk_at_once_with_the_same_bytes()
    {
        await using var emulator = await Emulators.StartAsync(o => o.EchoAudio = true);
        await using var client = await LiveTestClient.StartAsync(emulator, Transcripts);
        var chunks = Enumerable.Range(0, 20).Select(i => TestAudio.Speech(TimeSpan.FromMilliseconds(20)).Select((b, j) => j < 4 ? (byte)(i + j) : b).ToArray()).ToList();

        foreach (var chunk in chunks)
        {
            await client.SendAudioAsync(chunk);
        }

        foreach (var chunk in chunks)
        {
            var echo = await client.NextAsync(_ => true);
            echo.Audio.Should().Equal(chunk);
            echo.Root.GetProperty("serverContent").EnumerateObject().Should().ContainSingle();
        }

        emulator.Connections[0].AudioBytesReceived.Should().Be(chunks.Sum(c => c.Length));
    }
}
