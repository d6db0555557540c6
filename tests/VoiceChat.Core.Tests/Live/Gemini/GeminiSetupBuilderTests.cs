using System.ComponentModel;
using System.Security.Claims;
using System.Text.Json.Nodes;
using Microsoft.Extensions.AI;
using VoiceChat.Live;
using VoiceChat.Live.Gemini;
using VoiceChat.Tools;

namespace VoiceChat.Tests.Live.Gemini;

public sealed class GeminiSetupBuilderTests
{
    private static LiveSessionSetup Session(string? instruction = "You are a helpful voice assistant.", string? voice = "Kore", string? language = null) =>
        new(new LiveSessionRequest("s1", "u1", null, null, 16000, new Dictionary<string, string>(), new ClaimsPrincipal(), IsUserVerified: false), instruction, voice, language);

    private static AIFunction WeatherTool() =>
        AIFunctionFactory.Create(([Description("The city")] string city) => $"sunny in {city}", "get_weather", "Gets the current weather.");

    [Fact]
    public void Developer_api_gemini_2_5_defaults_with_a_tool()
    {
        var options = new GeminiOptions { ThinkingBudget = 0, ThinkingLevel = "LOW", EnableAffectiveDialog = true, ProactiveAudio = true };
        var json = GeminiSetupBuilder.Build(options, Session(), "models/gemini-2.5-flash-native-audio-preview-12-2025", [new ToolRegistration(WeatherTool())], null);

        AssertGolden("setup-developer-2.5.json", json);
    }

    [Fact]
    public void Vertex_gemini_3_manual_activity_resumed()
    {
        var options = new GeminiOptions
        {
            Backend = GeminiBackend.VertexAI,
            ActivityDetection = ActivityDetectionMode.Manual,
            InterruptOnSpeech = false,
            ThinkingBudget = 128,
            ThinkingLevel = "minimal",
            EnableAffectiveDialog = true,
            ProactiveAudio = true,
            Temperature = 0.5,
            MaxOutputTokens = 512,
            CompressionTriggerTokens = 25600,
            OutputTranscription = false,
        };
        var json = GeminiSetupBuilder.Build(options, Session(voice: "Puck", language: "de-DE"), "projects/p/locations/global/publishers/google/models/gemini-3.1-flash-live-preview", [], "handle-42");

        AssertGolden("setup-vertex-3.json", json);
    }

    [Fact]
    public void Vertex_gemini_3_8_accepts_its_always_on_features_and_sends_none_of_them()
    {
        var options = new GeminiOptions
        {
            Backend = GeminiBackend.VertexAI,
            Project = "p",
            Model = "gemini-3.8-live",
            EnableAffectiveDialog = true,
            ProactiveAudio = true,
            Voice = "Sulafat",
        };
        var voiceChat = new VoiceChatOptions { Gemini = options };
        new GeminiOptionsValidator().Validate(null, voiceChat).Succeeded.Should().BeTrue("both features are always on for this model");

        var json = GeminiSetupBuilder.Build(options, Session(voice: options.Voice), "projects/p/locations/global/publishers/google/models/gemini-3.8-live", [], null);

        AssertGolden("setup-vertex-3.8.json", json);
    }

    [Fact]
    public void Automatic_detection_settings_and_no_optional_parts()
    {
        var options = new GeminiOptions
        {
            StartOfSpeechSensitivity = SpeechSensitivity.High,
            EndOfSpeechSensitivity = SpeechSensitivity.Low,
            PrefixPaddingMs = 20,
            SilenceDurationMs = 500,
            ContextWindowCompression = false,
            InputTranscription = false,
            OutputTranscription = false,
        };
        var json = GeminiSetupBuilder.Build(options, Session(instruction: null, voice: null), "models/gemini-2.5-flash-native-audio-preview-12-2025", [], null);

        AssertGolden("setup-automatic-detection.json", json);
    }

    [Theory]
    [InlineData(MediaResolution.Low, TurnCoverage.OnlyActivity, "MEDIA_RESOLUTION_LOW", "TURN_INCLUDES_ONLY_ACTIVITY")]
    [InlineData(MediaResolution.Medium, TurnCoverage.AllInput, "MEDIA_RESOLUTION_MEDIUM", "TURN_INCLUDES_ALL_INPUT")]
    [InlineData(MediaResolution.High, TurnCoverage.AudioActivityAndAllVideo, "MEDIA_RESOLUTION_HIGH", "TURN_INCLUDES_AUDIO_ACTIVITY_AND_ALL_VIDEO")]
    public void A_video_session_has_compression_even_when_it_is_off_and_sends_the_video_settings(
        MediaResolution resolution, TurnCoverage coverage, string resolutionValue, string coverageValue)
    {
        var options = new GeminiOptions { ContextWindowCompression = false, MediaResolution = resolution, TurnCoverage = coverage };
        var video = new LiveSessionSetup(Session().Request with { Video = true }, null, null, null);

        var setup = JsonNode.Parse(GeminiSetupBuilder.Build(options, video, "models/gemini-2.5-flash-native-audio-preview-12-2025", [], null))!["setup"]!;
        var audioOnly = JsonNode.Parse(GeminiSetupBuilder.Build(options, Session(), "models/gemini-2.5-flash-native-audio-preview-12-2025", [], null))!["setup"]!;

        setup["contextWindowCompression"]!["slidingWindow"].Should().NotBeNull();
        audioOnly["contextWindowCompression"].Should().BeNull();
        setup["generationConfig"]!["mediaResolution"]!.GetValue<string>().Should().Be(resolutionValue);
        setup["realtimeInputConfig"]!["turnCoverage"]!.GetValue<string>().Should().Be(coverageValue);
    }

    private static void AssertGolden(string name, byte[] actualJson)
    {
        var path = Path.Combine(AppContext.BaseDirectory, "Live", "Gemini", "Golden", name);
        var actual = JsonNode.Parse(actualJson);
        var expected = JsonNode.Parse(File.ReadAllText(path));
        JsonNode.DeepEquals(actual, expected).Should().BeTrue($"the setup should match {name}; it was:\n{actual!.ToJsonString(new() { WriteIndented = true })}");
    }
}
