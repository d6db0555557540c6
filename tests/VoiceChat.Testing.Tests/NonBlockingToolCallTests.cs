using System.Net.WebSockets;
using System.Text.Json;
using Microsoft.Extensions.Time.Testing;

namespace VoiceChat.Testing.Tests;

/// <summary>
/// Functions declared <c>NON_BLOCKING</c>: the model calls them and keeps talking, and acts on each result as
/// its <c>scheduling</c> says. The emulator's clock is a fake one, so "the model is still talking" is a state
/// the test holds (reply audio stops after its first chunk until the clock moves), never a race.
/// </summary>
public sealed class NonBlockingToolCallTests
{
    private const string NonBlockingTools = ""","outputAudioTranscription":{},"tools":[{"functionDeclarations":[{"name":"get_weather","description":"Weather","behavior":"NON_BLOCKING"},{"name":"book_table","description":"Books","behavior":"BLOCKING"}]}]""";

    private static string Id(ServerMessage m) => m.Root.GetProperty("toolCall").GetProperty("functionCalls")[0].GetProperty("id").GetString()!;

    private static string Transcript(IEnumerable<ServerMessage> messages) => string.Concat(messages.Select(m => m.Transcription(false)?.Text));

    private static string Response(string id, string scheduling, string name = "get_weather") =>
        $$$"""{"toolResponse":{"functionResponses":[{"id":"{{{id}}}","name":"{{{name}}}","response":{"output":"sunny"},"scheduling":"{{{scheduling}}}"}]}}""";

    [Fact]
    public async Task The_model_keeps_talking_in_the_same_turn_after_calling_a_non_blocking_function()
    {
        var (emulator, time) = await StartAsync();
        await using var _ = emulator;
        await using var client = await LiveTestClient.StartAsync(emulator, NonBlockingTools);

        emulator.ScriptToolCall("get_weather");
        await client.SendAsync("""{"realtimeInput":{"text":"weather?"}}""");
        await client.NextAsync(m => m.Has("toolCall"));
        var turn = await CollectWhileTimeRunsAsync(client, time, m => m.IsTurnComplete);

        turn.Count(m => m.Audio is not null).Should().BeGreaterThan(1, "the model speaks on without the result");
        Transcript(turn).Should().Contain("I asked get_weather");
        emulator.Connections[0].FunctionDeclarations.Select(f => f.NonBlocking).Should().Equal(true, false);
        emulator.Connections[0].ToolResponses.Should().BeEmpty();
    }

    [Fact]
    public async Task An_interrupting_result_cuts_the_model_off_and_is_spoken_at_once()
    {
        var (emulator, time) = await StartAsync();
        await using var _ = emulator;
        await using var client = await LiveTestClient.StartAsync(emulator, NonBlockingTools);

        emulator.ScriptToolCall("get_weather");
        await client.SendAsync("""{"realtimeInput":{"text":"weather?"}}""");
        var id = Id(await client.NextAsync(m => m.Has("toolCall")));
        await client.NextAsync(m => m.Audio is not null);
        await client.SendAsync(Response(id, "INTERRUPT"));

        var cut = await client.CollectUntilAsync(m => m.IsTurnComplete);
        cut.Should().Contain(m => m.IsContentFlag("interrupted"), "the model was talking when the result came");
        cut.Should().NotContain(m => m.IsContentFlag("generationComplete"));
        var next = await CollectWhileTimeRunsAsync(client, time, m => m.IsTurnComplete);
        Transcript(next).Should().Be("""Turn 2: get_weather returned {"output":"sunny"}.""");
        emulator.Connections[0].ToolResponses.Should().ContainSingle().Which.Scheduling.Should().Be("INTERRUPT");
    }

    [Fact]
    public async Task A_when_idle_result_waits_for_the_current_reply_to_end()
    {
        var (emulator, time) = await StartAsync();
        await using var _ = emulator;
        await using var client = await LiveTestClient.StartAsync(emulator, NonBlockingTools);

        emulator.ScriptToolCall("get_weather");
        await client.SendAsync("""{"realtimeInput":{"text":"weather?"}}""");
        var id = Id(await client.NextAsync(m => m.Has("toolCall")));
        await client.NextAsync(m => m.Audio is not null);
        await client.SendAsync(Response(id, "WHEN_IDLE"));

        var first = await CollectWhileTimeRunsAsync(client, time, m => m.IsTurnComplete);
        var second = await CollectWhileTimeRunsAsync(client, time, m => m.IsTurnComplete);

        first.Should().Contain(m => m.IsContentFlag("generationComplete")).And.NotContain(m => m.IsContentFlag("interrupted"));
        Transcript(first).Should().Contain("I asked get_weather").And.NotContain("returned");
        Transcript(second).Should().Be("""Turn 2: get_weather returned {"output":"sunny"}.""");
    }

    [Fact]
    public async Task A_silent_result_is_not_spoken_but_the_next_answer_knows_it()
    {
        var (emulator, time) = await StartAsync();
        await using var _ = emulator;
        await using var client = await LiveTestClient.StartAsync(emulator, NonBlockingTools);

        emulator.ScriptToolCall("get_weather");
        await client.SendAsync("""{"realtimeInput":{"text":"weather?"}}""");
        var id = Id(await client.NextAsync(m => m.Has("toolCall")));
        await client.NextAsync(m => m.Audio is not null);
        // The docs' form: scheduling inside the response object.
        await client.SendAsync($$$"""{"toolResponse":{"functionResponses":[{"id":"{{{id}}}","name":"get_weather","response":{"output":"sunny","scheduling":"SILENT"}}]}}""");
        await CollectWhileTimeRunsAsync(client, time, m => m.IsTurnComplete);
        await client.SendAsync("""{"realtimeInput":{"text":"anything new?"}}""");
        var next = await CollectWhileTimeRunsAsync(client, time, m => m.IsTurnComplete);

        Transcript(next).Should().StartWith("Turn 2: you said").And.Contain("""I also know that get_weather returned {"output":"sunny","scheduling":"SILENT"}.""");
        client.Seen.Select(m => m.Transcription(false)?.Text ?? string.Empty).Should().NotContain(t => t.StartsWith("Turn 2: get_weather", StringComparison.Ordinal), "no turn of its own");
        emulator.Connections[0].ToolResponses.Single().Scheduling.Should().Be("SILENT");
    }

    [Fact]
    public async Task A_cancellation_while_the_model_talks_withdraws_the_call_and_the_model_talks_on()
    {
        var (emulator, time) = await StartAsync();
        await using var _ = emulator;
        await using var client = await LiveTestClient.StartAsync(emulator, NonBlockingTools);
        var connection = emulator.Connections[0];

        var id = await connection.CallToolAsync("get_weather");
        await client.NextAsync(m => m.Has("toolCall"));
        await client.NextAsync(m => m.Audio is not null);
        (await connection.CancelToolCallsAsync()).Should().Equal(id);

        var rest = await CollectWhileTimeRunsAsync(client, time, m => m.IsTurnComplete);
        var cancellation = rest.FindIndex(m => m.Has("toolCallCancellation"));
        cancellation.Should().BeGreaterThanOrEqualTo(0);
        rest[cancellation].Root.GetProperty("toolCallCancellation").GetProperty("ids")[0].GetString().Should().Be(id);
        rest.Skip(cancellation).Should().Contain(m => m.Audio != null, "the model is not waiting for the call, so it talks on");
        rest.Should().NotContain(m => m.IsContentFlag("interrupted"));
    }

    [Fact]
    public async Task A_new_user_turn_after_the_reply_leaves_a_non_blocking_call_pending()
    {
        var (emulator, time) = await StartAsync();
        await using var _ = emulator;
        await using var client = await LiveTestClient.StartAsync(emulator, NonBlockingTools);

        emulator.ScriptToolCall("get_weather");
        await client.SendAsync("""{"realtimeInput":{"text":"weather?"}}""");
        var id = Id(await client.NextAsync(m => m.Has("toolCall")));
        await CollectWhileTimeRunsAsync(client, time, m => m.IsTurnComplete);
        await client.SendAsync("""{"realtimeInput":{"text":"and meanwhile?"}}""");
        var between = await CollectWhileTimeRunsAsync(client, time, m => m.IsTurnComplete);
        await client.SendAsync(Response(id, "WHEN_IDLE"));
        var result = await CollectWhileTimeRunsAsync(client, time, m => m.IsTurnComplete);

        between.Should().NotContain(m => m.Has("toolCallCancellation"));
        Transcript(result).Should().Contain("get_weather returned");
        emulator.Connections[0].ToolResponses.Single().Matched.Should().BeTrue();
    }

    [Fact]
    public async Task Scheduling_on_a_blocking_functions_response_is_ignored_as_google_documents()
    {
        var (emulator, time) = await StartAsync();
        await using var _ = emulator;
        await using var client = await LiveTestClient.StartAsync(emulator, NonBlockingTools);
        var connection = emulator.Connections[0];

        var id = await connection.CallToolAsync("book_table");
        await client.NextAsync(m => m.IsTurnComplete);
        await client.SendAsync(Response(id, "SILENT", name: "book_table"));
        var reply = await CollectWhileTimeRunsAsync(client, time, m => m.IsTurnComplete);

        Transcript(reply).Should().Contain("book_table returned", "a blocking call's answer is always spoken");
    }

    [Theory]
    [InlineData("\"SOMETIMES\"")]
    [InlineData("7")]
    public async Task An_unknown_scheduling_value_is_refused_with_1007(string value)
    {
        var (emulator, _) = await StartAsync();
        await using var __ = emulator;
        await using var client = await LiveTestClient.StartAsync(emulator, NonBlockingTools);

        await client.SendAsync($$$"""{"toolResponse":{"functionResponses":[{"id":"function-call-1","name":"get_weather","response":{},"scheduling":{{{value}}}}]}}""");
        await client.WaitForCloseAsync();

        client.CloseStatus.Should().Be(WebSocketCloseStatus.InvalidPayloadData);
        client.CloseDescription.Should().StartWith("Invalid value at 'tool_response.function_responses[0].scheduling'");
    }

    [Fact]
    public async Task An_unknown_behavior_is_refused_at_setup()
    {
        await using var emulator = await Emulators.StartAsync();
        await using var client = await LiveTestClient.ConnectDeveloperAsync(emulator);

        await client.SendAsync("""{"setup":{"model":"models/gemini-2.5-flash-native-audio-preview-12-2025","tools":[{"functionDeclarations":[{"name":"f","behavior":"ASYNC"}]}]}}""");
        await client.WaitForCloseAsync();

        client.CloseStatus.Should().Be(WebSocketCloseStatus.InvalidPayloadData);
    }

    private static async Task<(LiveApiEmulator Emulator, FakeTimeProvider Time)> StartAsync()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var emulator = await Emulators.StartAsync(o => o.TimeProvider = time);
        return (emulator, time);
    }

    /// <summary>Collects messages up to the first that matches while the emulator's clock runs (bounded).</summary>
    private static async Task<List<ServerMessage>> CollectWhileTimeRunsAsync(LiveTestClient client, FakeTimeProvider time, Func<ServerMessage, bool> match)
    {
        using var stop = new CancellationTokenSource();
        var clock = Task.Run(async () =>
        {
            for (var i = 0; i < 4000 && !stop.IsCancellationRequested; i++)
            {
                time.Advance(TimeSpan.FromMilliseconds(100));
                await Task.Delay(5, CancellationToken.None);
            }
        });
        try
        {
            return await client.CollectUntilAsync(match);
        }
        finally
        {
            await stop.CancelAsync();
            await clock;
        }
    }
}
