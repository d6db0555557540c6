using System.Text.Json;
using System.Text.RegularExpressions;

namespace VoiceChat.Testing.Tests;

public sealed partial class ToolCallTests
{
    private const string Tools = ""","outputAudioTranscription":{},"tools":[{"functionDeclarations":[{"name":"get_weather","description":"Weather","parametersJsonSchema":{"type":"object","properties":{"city":{"type":"string"}}}}]}]""";

    [GeneratedRegex("^function-call-[0-9]+$")]
    private static partial Regex DeveloperCallId();

    private static JsonElement Call(ServerMessage m) => m.Root.GetProperty("toolCall").GetProperty("functionCalls")[0];

    [Fact]
    public async Task A_scripted_tool_call_round_trip_reaches_the_reply()
    {
        await using var emulator = await Emulators.StartAsync();
        emulator.ScriptToolCall("get_weather", """{"city":"Paris"}""");
        await using var client = await LiveTestClient.StartAsync(emulator, Tools);

        await client.SendAsync("""{"realtimeInput":{"text":"weather?"}}""");
        var callMessage = await client.NextAsync(m => m.Has("toolCall"));
        var call = Call(callMessage);
        var id = call.GetProperty("id").GetString()!;
        DeveloperCallId().IsMatch(id).Should().BeTrue();
        call.GetProperty("name").GetString().Should().Be("get_weather");
        call.GetProperty("args").GetProperty("city").GetString().Should().Be("Paris");
        (await client.NextAsync(_ => true)).IsTurnComplete.Should().BeTrue("2.5 completes the turn after a tool call");

        await client.SendAsync($$$"""{"toolResponse":{"functionResponses":[{"id":"{{{id}}}","name":"get_weather","response":{"output":"sunny"}}]}}""");
        var reply = await client.CollectUntilAsync(m => m.IsTurnComplete);

        string.Concat(reply.Select(m => m.Transcription(false)?.Text)).Should().Be("""Turn 1: get_weather returned {"output":"sunny"}.""");
        reply.Should().Contain(m => m.Audio != null);
        var connection = emulator.Connections[0];
        connection.ToolResponses.Should().ContainSingle().Which.Should().Be(new EmulatorToolResponse(id, "get_weather", """{"output":"sunny"}""", true));
        connection.ToolCallIds.Should().Equal(id);
        connection.FunctionDeclarations.Should().ContainSingle().Which.Name.Should().Be("get_weather");
        connection.FunctionDeclarations[0].ParametersJson.Should().Contain("\"city\"");
    }

    [Fact]
    public async Task Gemini_3_withholds_turn_complete_until_the_response_and_vertex_ids_are_uuids()
    {
        await using var emulator = await Emulators.StartAsync(o => o.KnownModels.Add(LiveTestClient.Model31));
        emulator.ScriptToolCall("get_weather");
        await using var client = await LiveTestClient.StartAsync(emulator, Tools, model: LiveTestClient.Model31, vertex: true);

        await client.SendAsync("""{"realtimeInput":{"text":"weather?"}}""");
        var id = Call(await client.NextAsync(m => m.Has("toolCall"))).GetProperty("id").GetString()!;
        Guid.TryParse(id, out _).Should().BeTrue();

        await client.SendAsync($$$"""{"toolResponse":{"functionResponses":[{"id":"{{{id}}}","name":"get_weather","response":{"output":1}}]}}""");
        var rest = await client.CollectUntilAsync(m => m.IsTurnComplete);

        rest.Should().Contain(m => m.IsContentFlag("generationComplete"), "the only turnComplete is the one after the reply");
    }

    [Fact]
    public async Task A_rule_calls_a_tool_when_the_user_text_matches()
    {
        await using var emulator = await Emulators.StartAsync(o => o.ToolCallRules.Add(new EmulatorToolCallRule { WhenTextContains = "WEATHER", ArgumentsJson = """{"city":"Oslo"}""" }));
        await using var client = await LiveTestClient.StartAsync(emulator, Tools);

        await client.SendAsync("""{"realtimeInput":{"text":"hello"}}""");
        var plain = await client.CollectUntilAsync(m => m.IsTurnComplete);
        plain.Should().NotContain(m => m.Has("toolCall"));

        await client.SendAsync("""{"realtimeInput":{"text":"the weather please"}}""");
        var call = Call(await client.NextAsync(m => m.Has("toolCall")));
        call.GetProperty("name").GetString().Should().Be("get_weather", "a rule without a name calls the first declared function");
        call.GetProperty("args").GetProperty("city").GetString().Should().Be("Oslo");
    }

    [Fact]
    public async Task A_tool_call_made_now_can_be_cancelled()
    {
        await using var emulator = await Emulators.StartAsync();
        await using var client = await LiveTestClient.StartAsync(emulator, Tools);
        var connection = emulator.Connections[0];

        var id = await connection.CallToolAsync("get_weather", """{"city":"Rome"}""");
        Call(await client.NextAsync(m => m.Has("toolCall"))).GetProperty("id").GetString().Should().Be(id);
        var cancelled = await connection.CancelToolCallsAsync();

        cancelled.Should().Equal(id);
        var cancellation = await client.NextAsync(m => m.Has("toolCallCancellation"));
        cancellation.Root.GetProperty("toolCallCancellation").GetProperty("ids")[0].GetString().Should().Be(id);
    }

    [Fact]
    public async Task Speech_while_a_call_is_pending_cancels_it()
    {
        await using var emulator = await Emulators.StartAsync();
        emulator.ScriptToolCall("get_weather");
        await using var client = await LiveTestClient.StartAsync(emulator, Tools);

        await client.SendAsync("""{"realtimeInput":{"text":"weather?"}}""");
        var id = Call(await client.NextAsync(m => m.Has("toolCall"))).GetProperty("id").GetString();
        await client.StreamAudioAsync(TestAudio.Utterance(TimeSpan.FromSeconds(0.5)));

        var cancellation = await client.NextAsync(m => m.Has("toolCallCancellation"));
        cancellation.Root.GetProperty("toolCallCancellation").GetProperty("ids")[0].GetString().Should().Be(id);
        await client.NextAsync(m => m.IsTurnComplete);
    }

    [Fact]
    public async Task A_response_with_an_unknown_id_is_recorded_and_ignored()
    {
        await using var emulator = await Emulators.StartAsync();
        await using var client = await LiveTestClient.StartAsync(emulator, Tools);

        await client.SendAsync("""{"toolResponse":{"functionResponses":[{"id":"function-call-1","name":"get_weather","response":{"output":"x"}}]}}""");
        await client.SendAsync("""{"realtimeInput":{"text":"still there?"}}""");
        await client.NextAsync(m => m.IsTurnComplete);

        emulator.Connections[0].ToolResponses.Should().ContainSingle().Which.Matched.Should().BeFalse();
    }
}
