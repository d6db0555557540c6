using System.Security.Claims;
using System.Text.Json;
using Microsoft.Extensions.AI;
using VoiceChat.Live;
using VoiceChat.Live.Gemini;
using VoiceChat.Tools;

namespace VoiceChat.Tests.Live.Gemini;

/// <summary>Non-blocking tools: declared with <c>behavior</c>, and refused at start-up for a model that runs every tool blocking.</summary>
public sealed class NonBlockingToolSupportTests
{
    private static readonly AIFunction Lookup = AIFunctionFactory.Create((string city) => city, "get_weather", "Weather.");
    private static readonly AIFunction Booking = AIFunctionFactory.Create((int people) => people, "book_table", "Books.");

    private static string? Validate(GeminiBackend backend, string model, params ToolRegistration[] tools)
    {
        var options = new VoiceChatOptions();
        options.Gemini.Backend = backend;
        options.Gemini.ApiKey = "k";
        options.Gemini.Project = "p";
        options.Gemini.Model = model;
        var result = new GeminiOptionsValidator(tools: tools).Validate(null, options);
        return result.Failed ? result.FailureMessage : null;
    }

    [Theory]
    [InlineData(GeminiBackend.VertexAI, "gemini-live-2.5-flash-native-audio")]
    [InlineData(GeminiBackend.DeveloperApi, "gemini-3.1-flash-live-preview")]
    public void A_non_blocking_tool_is_refused_for_a_model_without_them_naming_the_tool_and_the_model(GeminiBackend backend, string model)
    {
        var failure = Validate(backend, model, new ToolRegistration(Lookup, NonBlocking: true), new ToolRegistration(Booking));

        failure.Should().NotBeNull();
        failure.Should().Contain("'get_weather'").And.Contain("VoiceToolOptions.NonBlocking").And.Contain($"'{model}'").And.Contain("VoiceChat:Gemini:Model");
        failure.Should().NotContain("book_table", "a blocking tool runs on every model");
    }

    [Theory]
    [InlineData(GeminiBackend.DeveloperApi, "gemini-2.5-flash-native-audio-preview-12-2025")]
    [InlineData(GeminiBackend.VertexAI, "gemini-3.8-live")]
    [InlineData(GeminiBackend.VertexAI, "a-model-this-version-does-not-know")]
    public void A_non_blocking_tool_is_accepted_for_a_model_with_them_or_one_the_catalog_does_not_know(GeminiBackend backend, string model)
    {
        Validate(backend, model, new ToolRegistration(Lookup, NonBlocking: true)).Should().BeNull();
    }

    [Fact]
    public void Setup_declares_only_the_non_blocking_tool_with_behavior_NON_BLOCKING()
    {
        var setup = Encoding(GeminiSetupBuilder.Build(
            new GeminiOptions(),
            new LiveSessionSetup(new LiveSessionRequest("s1", "u1", null, null, 16000, new Dictionary<string, string>(), new ClaimsPrincipal(), IsUserVerified: false), null, null, null),
            "models/gemini-2.5-flash-native-audio-preview-12-2025",
            [new ToolRegistration(Lookup, NonBlocking: true, VoiceToolScheduling.Silent), new ToolRegistration(Booking)],
            null));

        var declarations = setup.GetProperty("setup").GetProperty("tools")[0].GetProperty("functionDeclarations");
        declarations[0].GetProperty("behavior").GetString().Should().Be("NON_BLOCKING");
        declarations[1].TryGetProperty("behavior", out _).Should().BeFalse("blocking is the service's default and older models know no behavior");
    }

    [Theory]
    [InlineData(GeminiBackend.DeveloperApi, "models/gemini-3.8-live", "BLOCKING")]
    [InlineData(GeminiBackend.VertexAI, "projects/p/locations/global/publishers/google/models/gemini-3.8-live", "BLOCKING")]
    [InlineData(GeminiBackend.VertexAI, "projects/p/locations/global/publishers/google/models/gemini-live-2.5-flash-native-audio", null)]
    [InlineData(GeminiBackend.DeveloperApi, "models/a-model-this-version-does-not-know", null)]
    public void A_blocking_tool_is_declared_BLOCKING_only_on_a_model_whose_functions_are_non_blocking_by_default(GeminiBackend backend, string model, string? behavior)
    {
        var setup = Encoding(GeminiSetupBuilder.Build(
            new GeminiOptions { Backend = backend },
            new LiveSessionSetup(new LiveSessionRequest("s1", "u1", null, null, 16000, new Dictionary<string, string>(), new ClaimsPrincipal(), IsUserVerified: false), null, null, null),
            model,
            [new ToolRegistration(Booking)],
            null));

        var declaration = setup.GetProperty("setup").GetProperty("tools")[0].GetProperty("functionDeclarations")[0];
        (declaration.TryGetProperty("behavior", out var wire) ? wire.GetString() : null).Should().Be(behavior);
    }

    [Fact]
    public void A_blocking_tool_is_refused_for_a_model_that_runs_only_non_blocking_tools_naming_the_tool_the_option_and_the_model()
    {
        const string model = "gemini-3.8-live-extended-thinking";
        var failure = Validate(GeminiBackend.DeveloperApi, model, new ToolRegistration(Lookup, NonBlocking: true), new ToolRegistration(Booking));

        failure.Should().NotBeNull();
        failure.Should().Contain("'book_table'").And.Contain("VoiceToolOptions.NonBlocking").And.Contain($"'{model}'").And.Contain("VoiceChat:Gemini:Model");
        failure.Should().NotContain("get_weather", "a non-blocking tool runs on that model");
    }

    [Theory]
    [InlineData(VoiceToolScheduling.WhenIdle, "WHEN_IDLE")]
    [InlineData(VoiceToolScheduling.Interrupt, "INTERRUPT")]
    [InlineData(VoiceToolScheduling.Silent, "SILENT")]
    public void The_scheduling_on_the_wire_is_the_services_enum_name_and_only_for_a_non_blocking_tool(VoiceToolScheduling scheduling, string wire)
    {
        new ToolRegistration(Lookup, NonBlocking: true, scheduling).WireScheduling.Should().Be(wire);
        new ToolRegistration(Lookup, NonBlocking: false, scheduling).WireScheduling.Should().BeNull();
    }

    private static JsonElement Encoding(byte[] json)
    {
        using var document = JsonDocument.Parse(json);
        return document.RootElement.Clone();
    }
}
