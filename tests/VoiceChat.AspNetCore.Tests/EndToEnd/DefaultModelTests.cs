using System.Text.Json;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using VoiceChat.Testing;
using VoiceChat.Tests.Infrastructure;

namespace VoiceChat.Tests.EndToEnd;

/// <summary>
/// The default configuration talks to the default model, <c>gemini-3.8-live</c>: its setup carries nothing the model
/// refuses, a spoken turn is answered, and a tool added blocking stays blocking on a model whose functions are
/// non-blocking by default.
/// </summary>
public sealed class DefaultModelTests
{
    [Fact]
    public async Task The_default_configuration_runs_a_voice_turn_and_a_blocking_tool_on_gemini_3_8()
    {
        await using var host = await VoiceChatTestHost.StartAsync(
            emulator: o => o.ToolCallRules.Add(new EmulatorToolCallRule { WhenTextContains = "weather", ToolName = "get_weather", ArgumentsJson = """{"city":"Paris"}""" }),
            services: (_, voiceChat) => voiceChat.AddTool(AIFunctionFactory.Create((string city) => $"Sunny in {city}", "get_weather", "Gets the weather for a city.")));
        await using var client = await host.ConnectAsync();
        await client.StartAsync();
        var connection = await host.Emulator.WaitForConnectionAsync();

        await client.StreamAsync(Pcm.Concat(Pcm.Speech(1.0, 300), Pcm.Silence(1.0)));
        await client.WaitForAsync("turn_complete");
        var spoken = client.Audio.Length;
        await client.SendJsonAsync("""{"type":"text","text":"What's the weather in Paris?"}""");
        var started = await client.WaitForAsync("tool_call");
        var completed = await client.WaitForAsync("tool_call");
        await Eventually.TrueAsync(() => client.Messages.Any(m => m.GetProperty("type").GetString() == "transcript"
            && m.GetProperty("role").GetString() == "assistant"
            && m.GetProperty("text").GetString()!.Contains("Sunny in Paris", StringComparison.Ordinal)));

        connection.Model.Should().Be("models/gemini-3.8-live");
        connection.CloseStatus.Should().BeNull("the model accepted the setup and the session");
        spoken.Should().BeGreaterThan(0, "the spoken turn was answered with audio");
        var setup = JsonDocument.Parse(connection.SetupJson!).RootElement.GetProperty("setup");
        setup.TryGetProperty("proactivity", out _).Should().BeFalse();
        setup.GetProperty("generationConfig").TryGetProperty("thinkingConfig", out _).Should().BeFalse();
        setup.GetProperty("generationConfig").TryGetProperty("enableAffectiveDialog", out _).Should().BeFalse();
        setup.GetProperty("tools")[0].GetProperty("functionDeclarations")[0].GetProperty("behavior").GetString().Should().Be("BLOCKING");
        connection.FunctionDeclarations.Should().ContainSingle(f => f.Name == "get_weather" && !f.NonBlocking);
        started.GetProperty("blocking").GetBoolean().Should().BeTrue();
        completed.GetProperty("status").GetString().Should().Be("completed");
        var response = connection.ToolResponses.Should().ContainSingle().Subject;
        response.Matched.Should().BeTrue();
        response.Scheduling.Should().BeNull("a blocking call's answer has no scheduling");
    }
}
