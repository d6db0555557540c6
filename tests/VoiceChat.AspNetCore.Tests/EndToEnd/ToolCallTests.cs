using System.ComponentModel;
using System.Text.Json;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using VoiceChat.Testing;
using VoiceChat.Tests.Infrastructure;

namespace VoiceChat.Tests.EndToEnd;

/// <summary>The model's tool calls run in the app: scoped services, timeouts, withdrawal, reconnection.</summary>
public sealed class ToolCallTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task A_tool_runs_in_the_app_with_its_scoped_services_and_the_client_sees_its_progress()
    {
        await using var host = await VoiceChatTestHost.StartAsync(
            emulator: o => o.ToolCallRules.Add(new EmulatorToolCallRule { WhenTextContains = "weather", ToolName = "get_weather", ArgumentsJson = """{"city":"Paris"}""" }),
            services: (builder, voiceChat) =>
            {
                builder.Services.AddScoped<WeatherService>();
                voiceChat.AddTool(AIFunctionFactory.Create(
                    ([Description("The city")] string city, IServiceProvider services) => services.GetRequiredService<WeatherService>().Describe(city),
                    "get_weather",
                    "Gets the weather for a city."));
            });
        await using var client = await host.ConnectAsync();
        await client.StartAsync();

        await client.SendJsonAsync("""{"type":"text","text":"What's the weather in Paris?"}""");

        var started = await client.WaitForAsync("tool_call");
        started.GetProperty("name").GetString().Should().Be("get_weather");
        started.GetProperty("status").GetString().Should().Be("started");
        started.GetProperty("blocking").GetBoolean().Should().BeTrue();
        var completed = await client.WaitForAsync("tool_call");
        completed.GetProperty("status").GetString().Should().Be("completed");
        completed.TryGetProperty("scheduling", out _).Should().BeFalse("a blocking call's answer has none");
        await client.WaitForAsync("turn_complete");

        var connection = host.Emulator.Connections.Single();
        connection.FunctionDeclarations.Should().ContainSingle(f => f.Name == "get_weather" && !f.NonBlocking);
        var response = connection.ToolResponses.Should().ContainSingle().Subject;
        response.Scheduling.Should().BeNull();
        response.Name.Should().Be("get_weather");
        response.Matched.Should().BeTrue("the id and name are echoed");
        JsonOf(response).GetProperty("output").GetString().Should().Be("Sunny in Paris");
        client.Messages.Should().Contain(m => m.GetProperty("type").GetString() == "transcript"
            && m.GetProperty("role").GetString() == "assistant"
            && m.GetProperty("text").GetString()!.Contains("Sunny in Paris", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_tool_that_outlives_its_timeout_is_cancelled_and_the_model_gets_an_error()
    {
        var toolCancelled = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var host = await VoiceChatTestHost.StartAsync(
            configure: o => o.Gemini.ToolTimeout = TimeSpan.FromMilliseconds(300),
            services: (_, voiceChat) => voiceChat.AddTool(ToolThatWaitsForCancellation("slow_lookup", toolCancelled)));
        await using var client = await host.ConnectAsync();
        await client.StartAsync();
        var connection = await host.Emulator.WaitForConnectionAsync();

        await connection.CallToolAsync("slow_lookup");

        (await client.WaitForAsync("tool_call")).GetProperty("status").GetString().Should().Be("started");
        (await client.WaitForAsync("tool_call")).GetProperty("status").GetString().Should().Be("failed");
        await toolCancelled.Task.WaitAsync(Wait);
        await Eventually.TrueAsync(() => connection.ToolResponses.Count > 0);
        var error = JsonOf(connection.ToolResponses.Single()).GetProperty("error").GetString();
        error.Should().Contain("did not finish");
        client.Messages.Should().NotContain(m => m.GetProperty("type").GetString() == "error", "a failed tool is the model's business, not a session error");
    }

    [Fact]
    public async Task A_tool_the_model_withdraws_is_cancelled_and_not_answered()
    {
        var toolStarted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var toolCancelled = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var host = await VoiceChatTestHost.StartAsync(
            services: (_, voiceChat) => voiceChat.AddTool(ToolThatWaitsForCancellation("book_table", toolCancelled, toolStarted)));
        await using var client = await host.ConnectAsync();
        await client.StartAsync();
        var connection = await host.Emulator.WaitForConnectionAsync();

        await connection.CallToolAsync("book_table", """{"people":2}""");
        (await client.WaitForAsync("tool_call")).GetProperty("status").GetString().Should().Be("started");
        await toolStarted.Task.WaitAsync(Wait);
        (await connection.CancelToolCallsAsync()).Should().ContainSingle();

        await toolCancelled.Task.WaitAsync(Wait);
        (await client.WaitForAsync("tool_call")).GetProperty("status").GetString().Should().Be("cancelled");
        await client.SendJsonAsync("""{"type":"ping","id":"after"}""");
        await client.WaitForAsync("pong");
        connection.ToolResponses.Should().BeEmpty("nobody waits for the answer of a withdrawn call");
    }

    [Fact]
    public async Task A_call_asked_for_again_on_a_resumed_connection_runs_once_and_its_answer_reaches_the_new_connection()
    {
        var runs = 0;
        var toolStarted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var host = await VoiceChatTestHost.StartAsync(
            services: (_, voiceChat) => voiceChat.AddTool(AIFunctionFactory.Create(
                async (string order) =>
                {
                    Interlocked.Increment(ref runs);
                    toolStarted.TrySetResult();
                    await release.Task;
                    return $"charged for {order}";
                },
                "charge_card",
                "Charges the card; must never run twice.")));
        await using var client = await host.ConnectAsync();
        await client.StartAsync();
        var first = await host.Emulator.WaitForConnectionAsync();

        var callId = await first.CallToolAsync("charge_card", """{"order":"A-17"}""");
        (await client.WaitForAsync("tool_call")).GetProperty("status").GetString().Should().Be("started");
        await toolStarted.Task.WaitAsync(Wait);
        await first.InjectFaultAsync(EmulatorFault.InternalError);
        var second = await host.Emulator.WaitForConnectionAsync(2);
        await Eventually.TrueAsync(() => second.SetupCompleted);
        second.IsResumption.Should().BeTrue();
        await second.RepeatToolCallAsync(callId, "charge_card", """{"order":"A-17"}""");
        await client.SendJsonAsync("""{"type":"ping","id":"repeated"}""");
        await client.WaitForAsync("pong");
        release.SetResult();

        (await client.WaitForAsync("tool_call")).GetProperty("status").GetString().Should().Be("completed");
        await Eventually.TrueAsync(() => second.ToolResponses.Count > 0);
        // Had the repeat arrived after the answer was known, the relay repeats the answer, never the call.
        second.ToolResponses.Should().OnlyContain(r => r.Id == callId && JsonOf(r).GetProperty("output").GetString() == "charged for A-17");
        second.ToolResponses.Should().Contain(r => r.Matched);
        Volatile.Read(ref runs).Should().Be(1);
        client.Messages.Count(m => m.GetProperty("type").GetString() == "tool_call").Should().Be(2, "one call, started and completed once");
        client.Messages.Should().NotContain(m => m.GetProperty("type").GetString() == "error");
    }

    /// <summary>A tool that runs until it is cancelled, and says when it started and when it saw the cancellation.</summary>
    internal static AIFunction ToolThatWaitsForCancellation(string name, TaskCompletionSource cancelled, TaskCompletionSource? started = null) =>
        AIFunctionFactory.Create(
            async (CancellationToken cancellationToken) =>
            {
                started?.TrySetResult();
                try
                {
                    await Task.Delay(Timeout.InfiniteTimeSpan, cancellationToken);
                }
                catch (OperationCanceledException)
                {
                    cancelled.TrySetResult();
                    throw;
                }

                return "never";
            },
            name,
            "Runs until it is cancelled.");

    private static JsonElement JsonOf(EmulatorToolResponse response)
    {
        using var document = JsonDocument.Parse(response.ResponseJson);
        return document.RootElement.Clone();
    }

    /// <summary>A scoped service: the tool gets the instance of its own call's scope.</summary>
    private sealed class WeatherService
    {
        private readonly string _forecast = "Sunny";

        public string Describe(string city) => $"{_forecast} in {city}";
    }
}
