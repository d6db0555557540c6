using System.Net.WebSockets;
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

    // The same two functions for Gemini 3.8: the first without a behavior (non-blocking by default), the second BLOCKING.
    private const string Gemini38Tools = ""","outputAudioTranscription":{},"tools":[{"functionDeclarations":[{"name":"get_weather","description":"Weather"},{"name":"book_table","description":"Books","behavior":"BLOCKING"}]}]""";

    private static string Transcript(IEnumerable<ServerMessage> messages) => string.Concat(messages.Select(m => m.Transcription(false)?.Text));

    private static string Response(string id, string scheduling, string name = "get_weather") =>
        $$$"""{"toolResponse":{"functionResponses":[{"id":"{{{id}}}","name":"{{{name}}}","response":{"output":"sunny"},"scheduling":"{{{scheduling}}}"}]}}""";

    [Fact]
    public async Task The_model_keeps_talking_in_the_same_turn_after_calling_a_non_blocking_function()
    {
        await using var talk = await Talk.StartAsync();

        await talk.AskForWeatherAsync();
        var turn = await talk.RunUntilTurnCompleteAsync();

        turn.Count(m => m.Audio is not null).Should().BeGreaterThan(1, "the model speaks on without the result");
        Transcript(turn).Should().Contain("I asked get_weather");
        talk.Connection.FunctionDeclarations.Select(f => f.NonBlocking).Should().Equal(true, false);
        talk.Connection.ToolResponses.Should().BeEmpty();
    }

    [Fact]
    public async Task On_gemini_3_8_a_function_without_a_behavior_is_non_blocking_and_a_blocking_one_stays_blocking()
    {
        await using var talk = await Talk.StartAsync(Gemini38Tools, "gemini-3.8-live");

        await talk.AskForWeatherAsync();
        var turn = await talk.RunUntilTurnCompleteAsync();

        turn.Count(m => m.Audio is not null).Should().BeGreaterThan(1, "the model speaks on without the result");
        talk.Connection.FunctionDeclarations.Select(f => f.NonBlocking).Should().Equal(true, false);
    }

    [Fact]
    public async Task An_interrupting_result_cuts_the_model_off_and_is_spoken_at_once()
    {
        await using var talk = await Talk.StartAsync();

        var id = await talk.AskForWeatherAsync();
        await talk.Client.NextAsync(m => m.Audio is not null);
        await talk.Client.SendAsync(Response(id, "INTERRUPT"));

        var cut = await talk.Client.CollectUntilAsync(m => m.IsTurnComplete);
        cut.Should().Contain(m => m.IsContentFlag("interrupted"), "the model was talking when the result came");
        cut.Should().NotContain(m => m.IsContentFlag("generationComplete"));
        Transcript(await talk.RunUntilTurnCompleteAsync()).Should().Be("""Turn 2: get_weather returned {"output":"sunny"}.""");
        talk.Connection.ToolResponses.Should().ContainSingle().Which.Scheduling.Should().Be("INTERRUPT");
    }

    [Fact]
    public async Task A_when_idle_result_waits_for_the_current_reply_to_end()
    {
        await using var talk = await Talk.StartAsync();

        var id = await talk.AskForWeatherAsync();
        await talk.Client.NextAsync(m => m.Audio is not null);
        await talk.Client.SendAsync(Response(id, "WHEN_IDLE"));
        var first = await talk.RunUntilTurnCompleteAsync();
        var second = await talk.RunUntilTurnCompleteAsync();

        first.Should().Contain(m => m.IsContentFlag("generationComplete")).And.NotContain(m => m.IsContentFlag("interrupted"));
        Transcript(first).Should().Contain("I asked get_weather").And.NotContain("returned");
        Transcript(second).Should().Be("""Turn 2: get_weather returned {"output":"sunny"}.""");
    }

    [Fact]
    public async Task A_silent_result_is_not_spoken_but_the_next_answer_knows_it()
    {
        await using var talk = await Talk.StartAsync();

        var id = await talk.AskForWeatherAsync();
        await talk.Client.NextAsync(m => m.Audio is not null);
        // The guide's form: scheduling inside the response object.
        await talk.Client.SendAsync($$$"""{"toolResponse":{"functionResponses":[{"id":"{{{id}}}","name":"get_weather","response":{"output":"sunny","scheduling":"SILENT"}}]}}""");
        await talk.RunUntilTurnCompleteAsync();
        await talk.Client.SendAsync("""{"realtimeInput":{"text":"anything new?"}}""");
        var next = await talk.RunUntilTurnCompleteAsync();

        Transcript(next).Should().StartWith("Turn 2: you said").And.Contain("""I also know that get_weather returned {"output":"sunny","scheduling":"SILENT"}.""");
        talk.Client.Seen.Select(m => m.Transcription(false)?.Text ?? string.Empty).Should().NotContain(t => t.StartsWith("Turn 2: get_weather", StringComparison.Ordinal), "no turn of its own");
        talk.Connection.ToolResponses.Single().Scheduling.Should().Be("SILENT");
    }

    [Fact]
    public async Task A_cancellation_while_the_model_talks_withdraws_the_call_and_the_model_talks_on()
    {
        await using var talk = await Talk.StartAsync();

        var id = await talk.Connection.CallToolAsync("get_weather");
        await talk.Client.NextAsync(m => m.Has("toolCall"));
        await talk.Client.NextAsync(m => m.Audio is not null);
        (await talk.Connection.CancelToolCallsAsync()).Should().Equal(id);

        var rest = await talk.RunUntilTurnCompleteAsync();
        var cancellation = rest.FindIndex(m => m.Has("toolCallCancellation"));
        cancellation.Should().BeGreaterThanOrEqualTo(0);
        rest[cancellation].Root.GetProperty("toolCallCancellation").GetProperty("ids")[0].GetString().Should().Be(id);
        rest.Skip(cancellation).Should().Contain(m => m.Audio != null, "the model is not waiting for the call, so it talks on");
        rest.Should().NotContain(m => m.IsContentFlag("interrupted"));
    }

    [Fact]
    public async Task A_new_user_turn_after_the_reply_leaves_a_non_blocking_call_pending()
    {
        await using var talk = await Talk.StartAsync();

        var id = await talk.AskForWeatherAsync();
        await talk.RunUntilTurnCompleteAsync();
        await talk.Client.SendAsync("""{"realtimeInput":{"text":"and meanwhile?"}}""");
        var between = await talk.RunUntilTurnCompleteAsync();
        await talk.Client.SendAsync(Response(id, "WHEN_IDLE"));
        var result = await talk.RunUntilTurnCompleteAsync();

        between.Should().NotContain(m => m.Has("toolCallCancellation"));
        Transcript(result).Should().Contain("get_weather returned");
        talk.Connection.ToolResponses.Single().Matched.Should().BeTrue();
    }

    [Fact]
    public async Task Scheduling_on_a_blocking_functions_response_is_ignored_as_google_documents()
    {
        await using var talk = await Talk.StartAsync();

        var id = await talk.Connection.CallToolAsync("book_table");
        await talk.Client.NextAsync(m => m.IsTurnComplete);
        await talk.Client.SendAsync(Response(id, "SILENT", name: "book_table"));

        Transcript(await talk.RunUntilTurnCompleteAsync()).Should().Contain("book_table returned", "a blocking call's answer is always spoken");
    }

    [Theory]
    [InlineData("\"SOMETIMES\"")]
    [InlineData("7")]
    public async Task An_unknown_scheduling_value_is_refused_with_1007(string value)
    {
        await using var talk = await Talk.StartAsync();

        await talk.Client.SendAsync($$$"""{"toolResponse":{"functionResponses":[{"id":"function-call-1","name":"get_weather","response":{},"scheduling":{{{value}}}}]}}""");
        await talk.Client.WaitForCloseAsync();

        talk.Client.CloseStatus.Should().Be(WebSocketCloseStatus.InvalidPayloadData);
        talk.Client.CloseDescription.Should().StartWith("Invalid value at 'tool_response.function_responses[0].scheduling'");
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

    /// <summary>An emulator on a fake clock with one connection set up with <see cref="NonBlockingTools"/> (or other tools and model).</summary>
    private sealed class Talk : IAsyncDisposable
    {
        private Talk(LiveApiEmulator emulator, FakeTimeProvider time, LiveTestClient client)
        {
            Emulator = emulator;
            Time = time;
            Client = client;
        }

        public LiveApiEmulator Emulator { get; }

        public FakeTimeProvider Time { get; }

        public LiveTestClient Client { get; }

        public EmulatorConnection Connection => Emulator.Connections[0];

        public static async Task<Talk> StartAsync(string tools = NonBlockingTools, string model = LiveTestClient.Model25)
        {
            var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
            var emulator = await Emulators.StartAsync(o => o.TimeProvider = time);
            return new Talk(emulator, time, await LiveTestClient.StartAsync(emulator, tools, model));
        }

        /// <summary>A user turn that makes the model call <c>get_weather</c>; returns the call id.</summary>
        public async Task<string> AskForWeatherAsync()
        {
            Emulator.ScriptToolCall("get_weather");
            await Client.SendAsync("""{"realtimeInput":{"text":"weather?"}}""");
            var call = await Client.NextAsync(m => m.Has("toolCall"));
            return call.Root.GetProperty("toolCall").GetProperty("functionCalls")[0].GetProperty("id").GetString()!;
        }

        /// <summary>Collects messages up to the next <c>turnComplete</c> while the emulator's clock runs (bounded).</summary>
        public async Task<List<ServerMessage>> RunUntilTurnCompleteAsync()
        {
            using var stop = new CancellationTokenSource();
            var clock = Task.Run(async () =>
            {
                for (var i = 0; i < 4000 && !stop.IsCancellationRequested; i++)
                {
                    Time.Advance(TimeSpan.FromMilliseconds(100));
                    await Task.Delay(5, CancellationToken.None);
                }
            });
            try
            {
                return await Client.CollectUntilAsync(m => m.IsTurnComplete);
            }
            finally
            {
                await stop.CancelAsync();
                await clock;
            }
        }

        public async ValueTask DisposeAsync()
        {
            await Client.DisposeAsync();
            await Emulator.DisposeAsync();
        }
    }
}
