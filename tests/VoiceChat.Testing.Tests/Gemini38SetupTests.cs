using System.Net.WebSockets;

namespace VoiceChat.Testing.Tests;

/// <summary>
/// The Gemini 3.8 Live models' rules for <c>setup</c>: no thinking setting on <c>gemini-3.8-live</c>, levels LOW to
/// HIGH on extended thinking, proactive audio that stays on and no affective dialog on the Developer API, and
/// functions that run non-blocking unless declared BLOCKING (extended thinking runs only non-blocking ones).
/// </summary>
public sealed class Gemini38SetupTests
{
    private const string Live = "gemini-3.8-live";
    private const string ExtendedThinking = "gemini-3.8-live-extended-thinking";

    private static async Task<LiveTestClient> SendSetupAsync(LiveApiEmulator emulator, string model, string fields, bool vertex)
    {
        var client = vertex ? await LiveTestClient.ConnectVertexAsync(emulator) : await LiveTestClient.ConnectDeveloperAsync(emulator);
        var name = vertex ? $"projects/p1/locations/us-central1/publishers/google/models/{model}" : $"models/{model}";
        await client.SendAsync($$$"""{"setup":{"model":"{{{name}}}"{{{fields}}}}}""");
        return client;
    }

    [Theory]
    [InlineData(Live, false, ""","generationConfig":{"responseModalities":["AUDIO"],"thinkingConfig":{"thinkingLevel":"LOW"}}""", "thinking_config is not supported")]
    [InlineData(Live, true, ""","generationConfig":{"thinkingConfig":{"thinkingBudget":1024}}""", "thinking_config is not supported")]
    [InlineData(ExtendedThinking, false, ""","generationConfig":{"thinkingConfig":{"thinkingLevel":"MINIMAL"}}""", "thinking_level MINIMAL is not supported")]
    [InlineData(ExtendedThinking, false, ""","generationConfig":{"thinkingConfig":{"thinkingBudget":512}}""", "thinking_budget is not supported")]
    [InlineData(Live, false, ""","proactivity":{"proactiveAudio":false}""", "proactive_audio cannot be disabled")]
    [InlineData(ExtendedThinking, false, ""","generationConfig":{"enableAffectiveDialog":true}""", "enable_affective_dialog is not supported")]
    [InlineData(Live, false, ""","generationConfig":{"enableAffectiveDialog":true}""", "enable_affective_dialog is not supported")]
    [InlineData(ExtendedThinking, false, ""","tools":[{"functionDeclarations":[{"name":"book_table","behavior":"BLOCKING"}]}]""", "Function book_table: behavior BLOCKING is not supported")]
    public async Task A_setting_the_model_refuses_closes_with_1007_saying_what(string model, bool vertex, string fields, string reason)
    {
        await using var emulator = await Emulators.StartAsync();
        await using var client = await SendSetupAsync(emulator, model, fields, vertex);

        await client.WaitForCloseAsync();

        client.CloseStatus.Should().Be(WebSocketCloseStatus.InvalidPayloadData);
        client.CloseDescription.Should().StartWith(reason).And.Contain(model);
        client.Seen.Should().NotContain(m => m.Has("setupComplete"));
    }

    [Theory]
    [InlineData(Live, false, "")]
    [InlineData(Live, true, "")]
    [InlineData(ExtendedThinking, false, ""","generationConfig":{"thinkingConfig":{"thinkingLevel":"LOW"}}""")]
    [InlineData(ExtendedThinking, false, ""","generationConfig":{"thinkingConfig":{"thinkingLevel":"MEDIUM"}}""")]
    [InlineData(ExtendedThinking, false, ""","generationConfig":{"thinkingConfig":{"thinkingLevel":"HIGH"}}""")]
    [InlineData(Live, false, ""","proactivity":{"proactiveAudio":true}""")]
    [InlineData(Live, true, ""","generationConfig":{"enableAffectiveDialog":true}""")]
    [InlineData(ExtendedThinking, false, ""","tools":[{"functionDeclarations":[{"name":"get_weather"},{"name":"book_table","behavior":"NON_BLOCKING"}]}]""")]
    public async Task A_setting_the_model_takes_completes_setup(string model, bool vertex, string fields)
    {
        await using var emulator = await Emulators.StartAsync();
        await using var client = await SendSetupAsync(emulator, model, fields, vertex);

        await client.NextAsync(m => m.Has("setupComplete"));

        emulator.Connections.Single().CloseStatus.Should().BeNull();
    }

    [Theory]
    [InlineData(Live, true)]
    [InlineData(ExtendedThinking, true)]
    [InlineData(LiveTestClient.Model25, false)]
    [InlineData(LiveTestClient.Model31, false)]
    public async Task A_function_without_a_behavior_runs_non_blocking_only_on_gemini_3_8(string model, bool nonBlockingByDefault)
    {
        await using var emulator = await Emulators.StartAsync();
        var second = model == ExtendedThinking ? "NON_BLOCKING" : "BLOCKING";
        await using var client = await LiveTestClient.StartAsync(emulator, $$$""","tools":[{"functionDeclarations":[{"name":"get_weather"},{"name":"book_table","behavior":"{{{second}}}"}]}]""", model);

        var functions = emulator.Connections.Single().FunctionDeclarations;

        functions[0].NonBlocking.Should().Be(nonBlockingByDefault);
        functions[1].NonBlocking.Should().Be(second == "NON_BLOCKING", "an explicit behavior is honoured");
    }
}
