using System.Text.Json;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using VoiceChat.Testing;
using VoiceChat.Tests.Infrastructure;

namespace VoiceChat.Tests.EndToEnd;

/// <summary>
/// Tools added non-blocking: the session relays the model's speech and the user's audio while they run, their
/// answer carries the tool's scheduling, and the client is told. Where a test needs the model to be mid-reply,
/// the emulator's clock is a fake one that the test moves, so "still talking" is a state, never a race.
/// </summary>
public sealed class NonBlockingToolTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task While_a_slow_non_blocking_tool_runs_the_model_and_the_user_keep_talking_and_its_result_comes_when_idle()
    {
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var host = await VoiceChatTestHost.StartAsync(
            emulator: o => o.ToolCallRules.Add(new EmulatorToolCallRule { WhenTextContains = "weather", ToolName = "get_weather", Once = true }),
            services: (_, voiceChat) => voiceChat.AddTool(
                AIFunctionFactory.Create(async () => { await release.Task; return "sunny"; }, "get_weather", "Gets the weather, slowly."),
                new VoiceToolOptions { NonBlocking = true }));
        await using var client = await host.ConnectAsync();
        await client.StartAsync();
        var connection = await host.Emulator.WaitForConnectionAsync();

        await client.SendJsonAsync("""{"type":"text","text":"What's the weather?"}""");
        var started = await client.WaitForAsync("tool_call");
        var audioBefore = client.Audio.Length;
        await client.WaitForAsync("turn_complete");
        var spokenWhileRunning = client.Audio.Length - audioBefore;
        await client.StreamAsync(Pcm.Concat(Pcm.Speech(0.6), Pcm.Silence(1.0)));
        await client.WaitForAsync("turn_complete");
        release.SetResult();
        var completed = await client.WaitForAsync("tool_call");

        started.GetProperty("status").GetString().Should().Be("started");
        started.GetProperty("blocking").GetBoolean().Should().BeFalse();
        started.GetProperty("id").GetString().Should().Be(connection.ToolCallIds.Single());
        started.TryGetProperty("scheduling", out _).Should().BeFalse("no result yet");
        spokenWhileRunning.Should().BeGreaterThan(0, "the model's reply reached the client while the tool was held");
        connection.AudioBytesReceived.Should().BeGreaterThan(0, "the user's audio reached the model while the tool was held");
        completed.GetProperty("status").GetString().Should().Be("completed");
        completed.GetProperty("blocking").GetBoolean().Should().BeFalse();
        completed.GetProperty("scheduling").GetString().Should().Be("WHEN_IDLE");
        await Eventually.TrueAsync(() => client.Messages.Any(m => IsAssistantText(m, "get_weather returned")));
        connection.FunctionDeclarations.Single().NonBlocking.Should().BeTrue();
        var response = connection.ToolResponses.Should().ContainSingle().Subject;
        response.Matched.Should().BeTrue();
        response.Scheduling.Should().Be("WHEN_IDLE");
        JsonOf(response).GetProperty("output").GetString().Should().Be("sunny");
        JsonOf(response).GetProperty("scheduling").GetString().Should().Be("WHEN_IDLE", "the guide's form is sent as well");
    }

    [Fact]
    public async Task An_interrupting_tool_result_cuts_the_model_off_and_the_client_hears_interrupted()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var host = await VoiceChatTestHost.StartAsync(
            emulator: o => o.TimeProvider = time,
            services: (_, voiceChat) => voiceChat.AddTool(
                AIFunctionFactory.Create(async () => { await release.Task; return "sunny"; }, "get_weather", "Gets the weather."),
                new VoiceToolOptions { NonBlocking = true, Scheduling = VoiceToolScheduling.Interrupt }));
        await using var client = await host.ConnectAsync();
        await client.StartAsync();
        var connection = await host.Emulator.WaitForConnectionAsync();

        await connection.CallToolAsync("get_weather");
        await client.WaitForAsync("tool_call");
        await NextAudioAsync(client);
        release.SetResult();

        (await client.WaitForAsync("tool_call")).GetProperty("scheduling").GetString().Should().Be("INTERRUPT");
        await client.WaitForAsync("interrupted");
        await WhileTimeRunsAsync(time, () => Eventually.TrueAsync(() => client.Messages.Any(m => IsAssistantText(m, "get_weather returned"))));
        connection.ToolResponses.Single().Scheduling.Should().Be("INTERRUPT");
    }

    [Fact]
    public async Task A_silent_tool_result_is_not_spoken_and_a_later_answer_uses_it()
    {
        await using var host = await VoiceChatTestHost.StartAsync(
            services: (_, voiceChat) => voiceChat.AddTool(
                AIFunctionFactory.Create(() => "sunny", "get_weather", "Gets the weather."),
                new VoiceToolOptions { NonBlocking = true, Scheduling = VoiceToolScheduling.Silent }));
        await using var client = await host.ConnectAsync();
        await client.StartAsync();
        var connection = await host.Emulator.WaitForConnectionAsync();

        await connection.CallToolAsync("get_weather");
        (await client.WaitForAsync("tool_call")).GetProperty("status").GetString().Should().Be("started");
        (await client.WaitForAsync("tool_call")).GetProperty("scheduling").GetString().Should().Be("SILENT");
        await client.WaitForAsync("turn_complete");
        await Eventually.TrueAsync(() => connection.ToolResponses.Count > 0);
        await client.SendJsonAsync("""{"type":"text","text":"Anything new?"}""");
        await Eventually.TrueAsync(() => client.Messages.Any(m => IsAssistantText(m, "I also know that get_weather returned")));

        client.Messages.Should().NotContain(m => IsAssistantText(m, ": get_weather returned"), "a silent result gets no turn of its own");
    }

    [Fact]
    public async Task A_cancellation_while_the_model_talks_cancels_the_running_tool_and_sends_no_answer()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var toolStarted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var toolCancelled = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var host = await VoiceChatTestHost.StartAsync(
            emulator: o => o.TimeProvider = time,
            services: (_, voiceChat) => voiceChat.AddTool(
                ToolCallTests.ToolThatWaitsForCancellation("book_table", toolCancelled, toolStarted),
                new VoiceToolOptions { NonBlocking = true }));
        await using var client = await host.ConnectAsync();
        await client.StartAsync();
        var connection = await host.Emulator.WaitForConnectionAsync();

        await connection.CallToolAsync("book_table");
        await client.WaitForAsync("tool_call");
        await NextAudioAsync(client);
        await toolStarted.Task.WaitAsync(Wait);
        (await connection.CancelToolCallsAsync()).Should().ContainSingle();

        await toolCancelled.Task.WaitAsync(Wait);
        var cancelled = await client.WaitForAsync("tool_call");
        cancelled.GetProperty("status").GetString().Should().Be("cancelled");
        cancelled.GetProperty("blocking").GetBoolean().Should().BeFalse();
        cancelled.TryGetProperty("scheduling", out _).Should().BeFalse("no result was sent");
        await WhileTimeRunsAsync(time, () => client.WaitForAsync("turn_complete"));
        connection.ToolResponses.Should().BeEmpty("nobody waits for the answer of a withdrawn call");
    }

    private static bool IsAssistantText(JsonElement m, string text) =>
        m.GetProperty("type").GetString() == "transcript"
        && m.GetProperty("role").GetString() == "assistant"
        && m.GetProperty("text").GetString()!.Contains(text, StringComparison.Ordinal);

    private static async Task NextAudioAsync(VoiceClient client)
    {
        for (var i = 0; i < 1000; i++)
        {
            if ((await client.NextAsync()).Audio is not null)
            {
                return;
            }
        }

        throw new InvalidOperationException("No audio from the model.");
    }

    /// <summary>Moves the emulator's clock (bounded) while <paramref name="action"/> waits for what it brings.</summary>
    private static async Task WhileTimeRunsAsync(FakeTimeProvider time, Func<Task> action)
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
            await action();
        }
        finally
        {
            await stop.CancelAsync();
            await clock;
        }
    }

    private static JsonElement JsonOf(EmulatorToolResponse response)
    {
        using var document = JsonDocument.Parse(response.ResponseJson);
        return document.RootElement.Clone();
    }
}
