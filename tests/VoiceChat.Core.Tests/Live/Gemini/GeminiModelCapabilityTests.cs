using Microsoft.Extensions.Logging;
using VoiceChat.Live.Gemini;

namespace VoiceChat.Tests.Live.Gemini;

/// <summary>What each known Live model refuses, checked at start-up by the options validator.</summary>
public sealed class GeminiModelCapabilityTests
{
    public static TheoryData<GeminiBackend, string, Action<GeminiOptions>, string> Refusals { get; } = new()
    {
        // Thinking: a budget only for Gemini 2.5 native audio, a level only for Gemini 3.x models that take one.
        { GeminiBackend.DeveloperApi, "gemini-3.1-flash-live-preview", o => o.ThinkingBudget = 0, "ThinkingBudget" },
        { GeminiBackend.DeveloperApi, "gemini-3.8-live", o => o.ThinkingBudget = 0, "ThinkingBudget" },
        { GeminiBackend.VertexAI, "gemini-live-2.5-flash", o => o.ThinkingBudget = 0, "ThinkingBudget" },
        { GeminiBackend.DeveloperApi, "gemini-2.5-flash-native-audio-preview-12-2025", o => o.ThinkingLevel = "low", "ThinkingLevel" },
        { GeminiBackend.VertexAI, "gemini-3.8-live", o => o.ThinkingLevel = "low", "ThinkingLevel" },
        { GeminiBackend.DeveloperApi, "gemini-3.8-live-extended-thinking", o => o.ThinkingLevel = "minimal", "ThinkingLevel" },
        { GeminiBackend.DeveloperApi, "gemini-3.1-flash-live-preview", o => o.ThinkingLevel = "extreme", "ThinkingLevel" },

        // Affective dialog and proactive audio: Gemini 2.5 native audio only (3.8 has them always on, or not at all).
        { GeminiBackend.DeveloperApi, "gemini-3.1-flash-live-preview", o => { o.EnableAffectiveDialog = true; o.ApiVersion = "v1alpha"; }, "EnableAffectiveDialog" },
        { GeminiBackend.DeveloperApi, "gemini-3.8-live", o => { o.EnableAffectiveDialog = true; o.ApiVersion = "v1alpha"; }, "EnableAffectiveDialog" },
        { GeminiBackend.VertexAI, "gemini-2.0-flash-live-preview-04-09", o => o.EnableAffectiveDialog = true, "EnableAffectiveDialog" },
        { GeminiBackend.VertexAI, "gemini-3.1-flash-live-preview", o => o.ProactiveAudio = true, "ProactiveAudio" },
        { GeminiBackend.DeveloperApi, "gemini-live-2.5-flash-preview", o => { o.ProactiveAudio = true; o.ApiVersion = "v1alpha"; }, "ProactiveAudio" },

        // The Developer API serves affective dialog and proactive audio only on v1alpha.
        { GeminiBackend.DeveloperApi, "gemini-2.5-flash-native-audio-preview-12-2025", o => o.EnableAffectiveDialog = true, "ApiVersion" },
        { GeminiBackend.DeveloperApi, "gemini-2.5-flash-native-audio-preview-09-2025", o => { o.ProactiveAudio = true; o.ApiVersion = "v1beta"; }, "ApiVersion" },

        // Voices: half-cascade models have 8, native-audio models 30.
        { GeminiBackend.DeveloperApi, "gemini-2.0-flash-live-001", o => o.Voice = "Sulafat", "Voice" },
        { GeminiBackend.DeveloperApi, "gemini-2.5-flash-native-audio-latest", o => o.Voice = "alloy", "Voice" },
    };

    private static (string? Failure, List<string> Warnings) Validate(GeminiBackend backend, string? model, Action<GeminiOptions>? configure = null)
    {
        var options = new VoiceChatOptions();
        options.Gemini.Backend = backend;
        options.Gemini.ApiKey = "k";
        options.Gemini.Project = "p";
        options.Gemini.Model = model;
        configure?.Invoke(options.Gemini);
        var logger = new ListLogger();
        var result = new GeminiOptionsValidator(logger).Validate(null, options);
        return (result.Failed ? result.FailureMessage : null, logger.Warnings);
    }

    private static void AcceptedWithoutWarning((string? Failure, List<string> Warnings) result)
    {
        result.Failure.Should().BeNull();
        result.Warnings.Should().BeEmpty();
    }

    [Theory]
    [MemberData(nameof(Refusals))]
    public void An_unsupported_combination_is_refused_naming_the_option_and_the_model(GeminiBackend backend, string model, Action<GeminiOptions> configure, string option)
    {
        var (failure, _) = Validate(backend, model, configure);

        failure.Should().NotBeNull().And.Contain($"VoiceChat:Gemini:{option}").And.Contain($"'{model}'");
        Validate(backend, model).Failure.Should().BeNull("the same model without the option is fine");
    }

    [Theory]
    [InlineData(GeminiBackend.DeveloperApi, "gemini-2.5-flash-native-audio-preview-12-2025")]
    [InlineData(GeminiBackend.VertexAI, "gemini-live-2.5-flash-native-audio")]
    public void Gemini_2_5_native_audio_takes_a_budget_affective_dialog_proactive_audio_and_any_of_30_voices(GeminiBackend backend, string model)
    {
        Validate(backend, model, o =>
        {
            o.ThinkingBudget = 512;
            o.EnableAffectiveDialog = true;
            o.ProactiveAudio = true;
            o.ApiVersion = backend == GeminiBackend.DeveloperApi ? "v1alpha" : null;
            o.Voice = "Sulafat";
        }).Failure.Should().BeNull();
    }

    [Fact]
    public void Gemini_3_takes_its_thinking_levels_and_gemini_3_8_has_proactive_audio_always_on()
    {
        Validate(GeminiBackend.DeveloperApi, "gemini-3.1-flash-live-preview", o => o.ThinkingLevel = "minimal").Failure.Should().BeNull();
        Validate(GeminiBackend.DeveloperApi, "gemini-3.8-live-extended-thinking", o => o.ThinkingLevel = "HIGH").Failure.Should().BeNull();
        Validate(GeminiBackend.DeveloperApi, "gemini-3.8-live", o => o.ProactiveAudio = true).Failure.Should().BeNull();
        Validate(GeminiBackend.VertexAI, "gemini-3.8-live", o => o.EnableAffectiveDialog = true).Failure.Should().BeNull();
    }

    [Fact]
    public void Every_refusal_of_one_model_is_listed_at_once()
    {
        var (failure, _) = Validate(GeminiBackend.DeveloperApi, "gemini-3.1-flash-live-preview", o =>
        {
            o.ThinkingBudget = 0;
            o.EnableAffectiveDialog = true;
            o.ProactiveAudio = true;
        });

        failure.Should().Contain("VoiceChat:Gemini:ThinkingBudget").And.Contain("VoiceChat:Gemini:EnableAffectiveDialog").And.Contain("VoiceChat:Gemini:ProactiveAudio");
    }

    [Theory]
    [InlineData(GeminiBackend.DeveloperApi, "gemini-9-live-preview")]
    [InlineData(GeminiBackend.VertexAI, "publishers/google/models/gemini-live-9")]
    public void An_unknown_model_is_accepted_unchecked_with_a_warning(GeminiBackend backend, string model)
    {
        var (failure, warnings) = Validate(backend, model, o =>
        {
            o.ThinkingBudget = 0;
            o.ThinkingLevel = "HIGH";
            o.EnableAffectiveDialog = true;
            o.Voice = "AnyNewVoice";
        });

        failure.Should().BeNull();
        warnings.Should().ContainSingle().Which.Should().Contain(model).And.Contain("not checked");
    }

    [Fact]
    public void A_model_id_of_the_other_backend_is_accepted_with_a_warning_that_says_so()
    {
        var (failure, warnings) = Validate(GeminiBackend.VertexAI, "gemini-2.5-flash-native-audio-preview-12-2025", o => o.ThinkingLevel = "HIGH");

        failure.Should().BeNull();
        warnings.Should().ContainSingle().Which.Should().Contain("other backend").And.Contain("gemini-3.8-live");
    }

    [Fact]
    public void The_warning_is_logged_once_however_often_the_options_are_validated()
    {
        var options = new VoiceChatOptions();
        options.Gemini.ApiKey = "k";
        options.Gemini.Model = "gemini-9-live-preview";
        var logger = new ListLogger();
        var validator = new GeminiOptionsValidator(logger);

        validator.Validate(null, options);
        validator.Validate(null, options);

        logger.Warnings.Should().ContainSingle();
    }

    [Fact]
    public void The_default_model_is_the_newest_generally_available_native_audio_model_and_passes_its_checks()
    {
        GeminiModelCatalog.ResolveModel(new GeminiOptions()).Should().Be("gemini-3.8-live");
        GeminiModelCatalog.ResolveModel(new GeminiOptions { Backend = GeminiBackend.VertexAI }).Should().Be("gemini-3.8-live");
        foreach (var backend in new[] { GeminiBackend.DeveloperApi, GeminiBackend.VertexAI })
        {
            var model = GeminiModelCatalog.Find(backend, GeminiModelCatalog.DefaultModel(backend))!;
            model.Should().Match<GeminiModelCapabilities>(m => m.GenerallyAvailable && m.NativeAudio);
            model.ApiVersionForOptionalFeatures.Should().BeNull("the default model needs no particular API version");
        }

        AcceptedWithoutWarning(Validate(GeminiBackend.DeveloperApi, null));
        AcceptedWithoutWarning(Validate(GeminiBackend.VertexAI, null));
    }

    [Theory]
    [InlineData(GeminiBackend.DeveloperApi)]
    [InlineData(GeminiBackend.VertexAI)]
    public void Settings_of_the_previous_default_are_refused_for_the_default_model_naming_the_option(GeminiBackend backend)
    {
        Validate(backend, null, o => o.ThinkingBudget = 1024).Failure
            .Should().Contain("VoiceChat:Gemini:ThinkingBudget").And.Contain("'gemini-3.8-live'").And.Contain("no thinking setting");
        var affective = Validate(backend, null, o => { o.EnableAffectiveDialog = true; o.ApiVersion = "v1alpha"; }).Failure;
        if (backend == GeminiBackend.DeveloperApi)
        {
            affective.Should().Contain("VoiceChat:Gemini:EnableAffectiveDialog").And.Contain("'gemini-3.8-live'");
        }
        else
        {
            affective.Should().BeNull("Vertex AI's gemini-3.8-live has affective dialog always on");
        }

        Validate(backend, null, o => o.ProactiveAudio = true).Failure.Should().BeNull("proactive audio is always on");
    }

    [Fact]
    public void A_language_must_be_a_language_code_and_native_audio_models_warn_that_they_ignore_it()
    {
        Validate(GeminiBackend.DeveloperApi, "gemini-live-2.5-flash-preview", o => o.Language = "English please").Failure
            .Should().Contain("VoiceChat:Gemini:Language");
        AcceptedWithoutWarning(Validate(GeminiBackend.DeveloperApi, "gemini-live-2.5-flash-preview", o => o.Language = "de-DE"));

        var (failure, warnings) = Validate(GeminiBackend.DeveloperApi, "gemini-2.5-flash-native-audio-preview-12-2025", o => o.Language = "de-DE");
        failure.Should().BeNull();
        warnings.Should().ContainSingle().Which.Should().Contain("chooses the language itself");
    }

    [Fact]
    public void Every_known_model_has_one_row_per_backend_and_its_voices()
    {
        var models = GeminiModelCatalog.All.ToList();

        models.Should().OnlyHaveUniqueItems(m => m.Backend + "/" + m.Id);
        models.Should().OnlyContain(m => m.Voices.Count == (m.NativeAudio ? 30 : 8));
        models.Should().OnlyContain(m => (m.Thinking == GeminiThinkingControl.Level) == (m.ThinkingLevels.Count > 0));
        models.Select(m => m.Id).Should().Contain([GeminiModelCatalog.DeveloperApiDefault, GeminiModelCatalog.VertexDefault]);
    }

    private sealed class ListLogger : ILogger<GeminiOptionsValidator>
    {
        public List<string> Warnings { get; } = [];

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (logLevel == LogLevel.Warning)
            {
                Warnings.Add(formatter(state, exception));
            }
        }
    }
}
