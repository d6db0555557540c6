using System.Net.WebSockets;

namespace VoiceChat.Testing.Tests;

public sealed class ConnectionTests
{
    [Theory]
    [InlineData("/ws/google.ai.generativelanguage.v1beta.GenerativeService.BidiGenerateContent", false, "v1beta")]
    [InlineData("/ws/google.ai.generativelanguage.v1alpha.GenerativeService.BidiGenerateContent", true, "v1alpha")]
    [InlineData("//ws/google.ai.generativelanguage.v1beta.GenerativeService.BidiGenerateContent", true, "v1beta")]
    [InlineData("//ws/google.ai.generativelanguage.v1alpha.GenerativeService.BidiGenerateContent", false, "v1alpha")]
    public async Task Developer_api_paths_complete_setup_with_an_empty_object_in_a_binary_frame(string path, bool keyInQuery, string version)
    {
        await using var emulator = await Emulators.StartAsync();
        await using var client = await LiveTestClient.ConnectDeveloperAsync(emulator, "k-123", path, keyInQuery);
        await client.SendAsync($$$"""{"setup":{"model":"models/{{{LiveTestClient.Model25}}}"}}""");

        var message = await client.NextAsync(m => true);

        message.Json.Should().Be("""{"setupComplete":{}}""");
        message.FrameType.Should().Be(WebSocketMessageType.Binary);
        var connection = emulator.Connections.Should().ContainSingle().Subject;
        connection.Backend.Should().Be(GeminiBackend.DeveloperApi);
        connection.ApiVersion.Should().Be(version);
        connection.ApiKey.Should().Be("k-123");
        connection.Path.Should().Be(path);
        connection.Model.Should().Be($"models/{LiveTestClient.Model25}");
        connection.ModelId.Should().Be(LiveTestClient.Model25);
        connection.SetupJson.Should().Contain("\"setup\"");
    }

    [Theory]
    [InlineData("/ws/google.cloud.aiplatform.v1beta1.LlmBidiService/BidiGenerateContent", "projects/p/locations/us-central1/publishers/google/models/gemini-live-2.5-flash-native-audio")]
    [InlineData("//ws/google.cloud.aiplatform.v1.LlmBidiService/BidiGenerateContent", "publishers/google/models/gemini-live-2.5-flash-native-audio")]
    public async Task Vertex_paths_complete_setup_with_a_session_id(string path, string model)
    {
        await using var emulator = await Emulators.StartAsync();
        await using var client = await LiveTestClient.ConnectVertexAsync(emulator, "tok-1", path);
        await client.SendAsync($$$"""{"setup":{"model":"{{{model}}}"}}""");

        var message = await client.NextAsync(m => true);

        Guid.TryParse(message.Root.GetProperty("setupComplete").GetProperty("sessionId").GetString(), out _).Should().BeTrue();
        var connection = emulator.Connections.Should().ContainSingle().Subject;
        connection.Backend.Should().Be(GeminiBackend.VertexAI);
        connection.BearerToken.Should().Be("tok-1");
        connection.ModelId.Should().Be("gemini-live-2.5-flash-native-audio");
    }

    [Fact]
    public async Task Text_frames_can_be_chosen_and_client_binary_frames_are_accepted()
    {
        await using var emulator = await Emulators.StartAsync(o => o.SendTextFrames = true);
        await using var client = await LiveTestClient.ConnectDeveloperAsync(emulator);
        await client.SendAsync($$$"""{"setup":{"model":"models/{{{LiveTestClient.Model25}}}"}}""", WebSocketMessageType.Binary);

        var message = await client.NextAsync(m => true);

        message.Has("setupComplete").Should().BeTrue();
        message.FrameType.Should().Be(WebSocketMessageType.Text);
    }

    [Theory]
    [InlineData("", null)]
    [InlineData("wrong", "right")]
    public async Task A_missing_or_wrong_api_key_is_refused_with_1007(string key, string? expected)
    {
        await using var emulator = await Emulators.StartAsync(o => o.ExpectedApiKey = expected);
        await using var client = await LiveTestClient.ConnectDeveloperAsync(emulator, key);

        await client.WaitForCloseAsync();

        client.CloseStatus.Should().Be(WebSocketCloseStatus.InvalidPayloadData);
        client.CloseDescription.Should().Be("API key not valid. Please pass a valid API key.");
    }

    [Fact]
    public async Task The_expected_api_key_is_accepted()
    {
        await using var emulator = await Emulators.StartAsync(o => o.ExpectedApiKey = "right");
        await using var client = await LiveTestClient.ConnectDeveloperAsync(emulator, "right", keyInQuery: true);
        await client.SendAsync($$$"""{"setup":{"model":"models/{{{LiveTestClient.Model25}}}"}}""");

        (await client.NextAsync(m => true)).Has("setupComplete").Should().BeTrue();
    }

    [Theory]
    [InlineData(null, null)]
    [InlineData("wrong", "right")]
    public async Task A_missing_or_wrong_bearer_token_is_refused_with_1008(string? token, string? expected)
    {
        await using var emulator = await Emulators.StartAsync(o => o.ExpectedBearerToken = expected);
        await using var client = await LiveTestClient.ConnectVertexAsync(emulator, token);

        await client.WaitForCloseAsync();

        client.CloseStatus.Should().Be(WebSocketCloseStatus.PolicyViolation);
        client.CloseDescription.Should().StartWith("Request had invalid authentication credentials.");
        System.Text.Encoding.UTF8.GetByteCount(client.CloseDescription!).Should().BeLessThanOrEqualTo(123);
    }

    [Fact]
    public async Task An_unknown_path_is_not_found()
    {
        await using var emulator = await Emulators.StartAsync();

        var connect = () => LiveTestClient.ConnectAsync(LiveTestClient.Address(emulator, "/ws/other?key=k"));

        await connect.Should().ThrowAsync<WebSocketException>();
        emulator.Connections.Should().BeEmpty();
    }

    [Fact]
    public async Task Messages_sent_before_a_delayed_setup_complete_are_handled_after_it()
    {
        await using var emulator = await Emulators.StartAsync(o => o.SetupCompleteDelay = TimeSpan.FromMilliseconds(300));
        await using var client = await LiveTestClient.ConnectDeveloperAsync(emulator);
        await client.SendAsync($$$$"""{"setup":{"model":"models/{{{{LiveTestClient.Model25}}}}","outputAudioTranscription":{}}}""");
        await client.SendAsync("""{"realtimeInput":{"text":"early"}}""");

        var messages = await client.CollectUntilAsync(m => m.IsTurnComplete);

        messages[0].Has("setupComplete").Should().BeTrue();
        string.Concat(messages.Select(m => m.Transcription(false)?.Text)).Should().Contain("early");
    }

    [Fact]
    public async Task Suppressed_setup_complete_never_arrives()
    {
        await using var emulator = await Emulators.StartAsync(o => o.SuppressSetupComplete = true);
        await using var client = await LiveTestClient.ConnectDeveloperAsync(emulator);
        await client.SendAsync($$$"""{"setup":{"model":"models/{{{LiveTestClient.Model25}}}"}}""");
        await client.SendAsync("""{"realtimeInput":{"text":"anyone?"}}""");
        var connection = await emulator.WaitForConnectionAsync();

        while (connection.MessagesReceived < 2)
        {
            await Task.Delay(10);
        }

        await connection.CloseAsync(WebSocketCloseStatus.NormalClosure, "bye");
        (await client.WaitForCloseAsync()).Should().BeEmpty();
        connection.SetupCompleted.Should().BeFalse();
    }

    [Fact]
    public async Task Gemini_3_with_affective_dialog_never_completes_setup()
    {
        await using var emulator = await Emulators.StartAsync();
        await using var client = await LiveTestClient.ConnectDeveloperAsync(emulator);
        await client.SendAsync($$$$"""{"setup":{"model":"models/{{{{LiveTestClient.Model31}}}}","generationConfig":{"enableAffectiveDialog":true}}}""");
        var connection = await emulator.WaitForConnectionAsync();
        while (connection.MessagesReceived < 1)
        {
            await Task.Delay(10);
        }

        await client.SendAsync("""{"realtimeInput":{"text":"x"}}""");
        while (connection.MessagesReceived < 2)
        {
            await Task.Delay(10);
        }

        await connection.CloseAsync(WebSocketCloseStatus.NormalClosure, "bye");
        (await client.WaitForCloseAsync()).Should().BeEmpty();
        connection.SetupCompleted.Should().BeFalse();
    }

    [Fact]
    public async Task Stopping_the_emulator_ends_open_connections()
    {
        var emulator = await Emulators.StartAsync();
        await using var client = await LiveTestClient.StartAsync(emulator);
        var connection = emulator.Connections[0];

        await emulator.StopAsync();

        await connection.Closed.WaitAsync(LiveTestClient.Timeout);
        await client.WaitForCloseAsync();
        connection.IsOpen.Should().BeFalse();
    }
}
