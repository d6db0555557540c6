using System.Net.WebSockets;
using System.Text;

namespace VoiceChat.Testing.Tests;

public sealed class StrictnessTests
{
    private const string InvalidArgument = "Request contains an invalid argument.";

    [Fact]
    public async Task The_first_message_must_be_setup()
    {
        await using var emulator = await Emulators.StartAsync();
        await using var client = await LiveTestClient.ConnectDeveloperAsync(emulator);

        await client.SendAsync("""{"realtimeInput":{"text":"hi"}}""");
        await client.WaitForCloseAsync();

        client.CloseStatus.Should().Be(WebSocketCloseStatus.InvalidPayloadData);
        emulator.Connections[0].CloseStatus.Should().Be(WebSocketCloseStatus.InvalidPayloadData);
    }

    [Fact]
    public async Task A_second_setup_is_an_invalid_argument()
    {
        await using var emulator = await Emulators.StartAsync();
        await using var client = await LiveTestClient.StartAsync(emulator);

        await client.SendAsync($$$"""{"setup":{"model":"models/{{{LiveTestClient.Model25}}}"}}""");
        await client.WaitForCloseAsync();

        client.CloseStatus.Should().Be(WebSocketCloseStatus.InvalidPayloadData);
        client.CloseDescription.Should().Be(InvalidArgument);
    }

    [Fact]
    public async Task An_unknown_top_level_key_is_refused()
    {
        await using var emulator = await Emulators.StartAsync();
        await using var client = await LiveTestClient.StartAsync(emulator);

        await client.SendAsync("""{"realtimeText":{"text":"hi"}}""");
        await client.WaitForCloseAsync();

        client.CloseStatus.Should().Be(WebSocketCloseStatus.InvalidPayloadData);
        client.CloseDescription.Should().Be("Invalid JSON payload received. Unknown name \"realtimeText\": Cannot find field.");
    }

    [Theory]
    [InlineData("""{"realtimeInput":{"text":"a"},"toolResponse":{}}""")]
    [InlineData("""[1,2]""")]
    [InlineData("""{"realtimeInput":{"audio":{"data":"!!notbase64!!","mimeType":"audio/pcm"}}}""")]
    [InlineData("""{"realtimeInput":{"text":42}}""")]
    [InlineData("""{"realtimeInput":{"activityStart":{}}}""")]
    [InlineData("""{"clientContent":{"turns":[{"role":"user","parts":[{"functionResponse":{"name":"x"}}]}],"turnComplete":true}}""")]
    public async Task Malformed_messages_are_invalid_arguments(string json)
    {
        await using var emulator = await Emulators.StartAsync();
        await using var client = await LiveTestClient.StartAsync(emulator);

        await client.SendAsync(json);
        await client.WaitForCloseAsync();

        client.CloseStatus.Should().Be(WebSocketCloseStatus.InvalidPayloadData);
    }

    [Fact]
    public async Task Broken_json_is_refused_and_the_emulator_keeps_serving()
    {
        await using var emulator = await Emulators.StartAsync();
        await using (var client = await LiveTestClient.StartAsync(emulator))
        {
            await client.SendAsync("""{"realtimeInput":{"text":""");
            await client.WaitForCloseAsync();
            client.CloseStatus.Should().Be(WebSocketCloseStatus.InvalidPayloadData);
        }

        await using var next = await LiveTestClient.StartAsync(emulator);
        next.Socket.State.Should().Be(WebSocketState.Open);
    }

    [Fact]
    public async Task Legacy_media_chunks_are_refused_on_gemini_3()
    {
        await using var emulator = await Emulators.StartAsync();
        await using var client = await LiveTestClient.StartAsync(emulator, model: LiveTestClient.Model31);

        await client.SendAsync("""{"realtimeInput":{"mediaChunks":[{"data":"AAAA","mimeType":"audio/pcm;rate=16000"}]}}""");
        await client.WaitForCloseAsync();

        client.CloseStatus.Should().Be(WebSocketCloseStatus.InvalidPayloadData);
        client.CloseDescription.Should().Be("realtime_input.media_chunks is deprecated. Use audio, video, or text instead.");
    }

    [Fact]
    public async Task Legacy_media_chunks_are_still_audio_on_2_5()
    {
        await using var emulator = await Emulators.StartAsync();
        await using var client = await LiveTestClient.StartAsync(emulator);
        var pcm = TestAudio.Speech(TimeSpan.FromMilliseconds(100));

        await client.SendAsync($$$"""{"realtimeInput":{"mediaChunks":[{"data":"{{{Convert.ToBase64String(pcm)}}}","mimeType":"audio/pcm;rate=16000"}]}}""");
        await client.SendAsync("""{"realtimeInput":{"text":"x"}}""");
        await client.NextAsync(m => m.IsTurnComplete);

        emulator.Connections[0].AudioBytesReceived.Should().Be(pcm.Length);
    }

    [Fact]
    public async Task Client_content_after_setup_is_refused_on_gemini_3()
    {
        await using var emulator = await Emulators.StartAsync();
        await using var client = await LiveTestClient.StartAsync(emulator, model: LiveTestClient.Model31);

        await client.SendAsync("""{"clientContent":{"turns":[{"role":"user","parts":[{"text":"Hello"}]}],"turnComplete":true}}""");
        await client.WaitForCloseAsync();

        client.CloseStatus.Should().Be(WebSocketCloseStatus.InvalidPayloadData);
        client.CloseDescription.Should().Be(InvalidArgument);
    }

    [Fact]
    public async Task Gemini_3_accepts_an_initial_history_seed_with_history_config()
    {
        await using var emulator = await Emulators.StartAsync();
        await using var client = await LiveTestClient.StartAsync(emulator, ""","historyConfig":{"initialHistoryInClientContent":true},"outputAudioTranscription":{}""", model: LiveTestClient.Model31);

        await client.SendAsync("""{"clientContent":{"turns":[{"role":"user","parts":[{"text":"earlier"}]},{"role":"model","parts":[{"text":"ok"}]}],"turnComplete":true}}""");
        await client.SendAsync("""{"realtimeInput":{"text":"now"}}""");
        var messages = await client.CollectUntilAsync(m => m.IsTurnComplete);

        string.Concat(messages.Select(m => m.Transcription(false)?.Text)).Should().Be("Turn 1: you said \"now\".");
    }

    [Fact]
    public async Task An_unknown_model_is_not_found_with_googles_text_cut_to_123_bytes()
    {
        await using var emulator = await Emulators.StartAsync();
        await using var client = await LiveTestClient.ConnectDeveloperAsync(emulator);

        await client.SendAsync("""{"setup":{"model":"models/gemini-unknown"}}""");
        await client.WaitForCloseAsync();

        client.CloseStatus.Should().Be(WebSocketCloseStatus.PolicyViolation);
        var full = "models/gemini-unknown is not found for API version v1beta, or is not supported for bidiGenerateContent. Call ListModels to see the list of available models and their supported methods.";
        client.CloseDescription.Should().Be(full[..123]);
        Encoding.UTF8.GetByteCount(client.CloseDescription!).Should().Be(123);
    }

    [Fact]
    public async Task The_known_models_can_be_configured()
    {
        await using var emulator = await Emulators.StartAsync(o => o.KnownModels.Add("my-model"));
        await using var client = await LiveTestClient.StartAsync(emulator, model: "my-model");

        emulator.Connections[0].ModelId.Should().Be("my-model");
    }

    [Fact]
    public async Task An_unknown_setup_field_is_refused()
    {
        await using var emulator = await Emulators.StartAsync();
        await using var client = await LiveTestClient.ConnectDeveloperAsync(emulator);

        await client.SendAsync($$$"""{"setup":{"model":"models/{{{LiveTestClient.Model25}}}","bogus":1}}""");
        await client.WaitForCloseAsync();

        client.CloseStatus.Should().Be(WebSocketCloseStatus.InvalidPayloadData);
        client.CloseDescription.Should().Be("Invalid JSON payload received. Unknown name \"bogus\" at 'setup': Cannot find field.");
    }

    [Fact]
    public async Task Snake_case_names_are_accepted()
    {
        await using var emulator = await Emulators.StartAsync();
        await using var client = await LiveTestClient.StartAsync(emulator, ""","output_audio_transcription":{}""");

        await client.SendAsync("""{"realtime_input":{"text":"snake"}}""");
        var messages = await client.CollectUntilAsync(m => m.IsTurnComplete);

        string.Concat(messages.Select(m => m.Transcription(false)?.Text)).Should().Contain("snake");
    }

    [Fact]
    public async Task A_message_over_the_size_limit_closes_with_1009()
    {
        await using var emulator = await Emulators.StartAsync(o => o.MaxMessageBytes = 64 * 1024);
        await using var client = await LiveTestClient.StartAsync(emulator);

        await client.SendAudioAsync(new byte[100 * 1024]);
        await client.WaitForCloseAsync();

        client.CloseStatus.Should().Be(WebSocketCloseStatus.MessageTooBig);
    }
}
