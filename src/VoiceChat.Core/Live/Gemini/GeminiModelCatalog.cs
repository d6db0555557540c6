using System.Collections.Frozen;
using System.Text.RegularExpressions;
using VoiceChat.Tools;

namespace VoiceChat.Live.Gemini;

/// <summary>How a model takes a thinking setting.</summary>
internal enum GeminiThinkingControl
{
    /// <summary>No thinking setting at all (half-cascade models; <c>gemini-3.8-live</c> reasons without one).</summary>
    None,

    /// <summary><c>thinkingConfig.thinkingBudget</c> (Gemini 2.5 native audio).</summary>
    Budget,

    /// <summary><c>thinkingConfig.thinkingLevel</c> (Gemini 3.x).</summary>
    Level,
}

/// <summary>Whether a model lets a feature be switched on in <c>setup</c>.</summary>
internal enum GeminiFeatureSupport
{
    /// <summary>The model refuses the setting (a 1007 close, or a setup that never completes).</summary>
    Unsupported,

    /// <summary>The setting is sent when the option asks for it.</summary>
    Optional,

    /// <summary>The feature is always on and cannot be configured; the option is accepted and nothing is sent.</summary>
    AlwaysOn,
}

/// <summary>
/// What one Live model accepts in <c>setup</c> on one backend. <see cref="VideoInput"/> covers <c>realtimeInput.video</c>
/// and <c>generationConfig.mediaResolution</c>. <see cref="NonBlockingTools"/> says whether
/// the model takes <c>NON_BLOCKING</c> functions, <see cref="BlockingTools"/> whether it takes blocking ones, and
/// <see cref="NonBlockingByDefault"/> whether a function declared without a behavior runs non-blocking.
/// </summary>
internal sealed record GeminiModelCapabilities(
    string Id,
    GeminiBackend Backend,
    bool NativeAudio,
    bool GenerallyAvailable,
    GeminiThinkingControl Thinking,
    FrozenSet<string> ThinkingLevels,
    GeminiFeatureSupport AffectiveDialog,
    GeminiFeatureSupport ProactiveAudio,
    bool NonBlockingTools,
    bool BlockingTools,
    bool NonBlockingByDefault,
    bool VideoInput,
    FrozenSet<string> Voices)
{
    /// <summary>
    /// Whether an explicit <c>speechConfig.languageCode</c> changes anything. Native-audio models choose the
    /// language themselves; the service accepts the field and ignores it.
    /// </summary>
    public bool HonoursLanguageCode => !NativeAudio;

    /// <summary>
    /// The API version the Developer API needs for the model's optional affective dialog and proactive audio
    /// (reference §1a, §2a); null when nothing needs a particular version.
    /// </summary>
    public string? ApiVersionForOptionalFeatures =>
        Backend == GeminiBackend.DeveloperApi && (AffectiveDialog == GeminiFeatureSupport.Optional || ProactiveAudio == GeminiFeatureSupport.Optional)
            ? "v1alpha"
            : null;
}

/// <summary>
/// The Live models this version knows, per backend, and the checks that keep an unsupported <c>setup</c>
/// from reaching the service (where it ends in a 1007 close). docs/configuration.md lists the table and its
/// sources. A model the table does not know (a newer one) is used as configured and not checked.
/// </summary>
internal static partial class GeminiModelCatalog
{
    /// <summary>The default model of the Developer API: its newest generally available native-audio Live model.</summary>
    public const string DeveloperApiDefault = "gemini-3.8-live";

    /// <summary>The default model of Vertex AI: its newest generally available native-audio Live model.</summary>
    public const string VertexDefault = "gemini-3.8-live";

    // The 8 voices of half-cascade models (Vertex AI model pages).
    private static readonly FrozenSet<string> HalfCascadeVoices = Names(
        "Puck", "Charon", "Kore", "Fenrir", "Aoede", "Leda", "Orus", "Zephyr");

    // The 30 Chirp 3 HD voices of native-audio models (speech generation and Live API voice lists).
    private static readonly FrozenSet<string> NativeAudioVoices = Names(
        "Achernar", "Achird", "Algenib", "Algieba", "Alnilam", "Aoede", "Autonoe", "Callirrhoe", "Charon", "Despina",
        "Enceladus", "Erinome", "Fenrir", "Gacrux", "Iapetus", "Kore", "Laomedeia", "Leda", "Orus", "Puck",
        "Pulcherrima", "Rasalgethi", "Sadachbia", "Sadaltager", "Schedar", "Sulafat", "Umbriel", "Vindemiatrix", "Zephyr", "Zubenelgenubi");

    private static readonly FrozenSet<string> NoLevels = FrozenSet<string>.Empty;
    private static readonly FrozenSet<string> Gemini31Levels = Names("MINIMAL", "LOW", "MEDIUM", "HIGH");
    private static readonly FrozenSet<string> ExtendedThinkingLevels = Names("LOW", "MEDIUM", "HIGH");

    private static readonly FrozenDictionary<(GeminiBackend, string), GeminiModelCapabilities> Models = new GeminiModelCapabilities[]
    {
        // Developer API
        Gemini38Live(GeminiBackend.DeveloperApi, "gemini-3.8-live", GeminiThinkingControl.None, NoLevels, affectiveDialog: GeminiFeatureSupport.Unsupported, blockingTools: true),
        Gemini38Live(GeminiBackend.DeveloperApi, "gemini-3.8-live-extended-thinking", GeminiThinkingControl.Level, ExtendedThinkingLevels, affectiveDialog: GeminiFeatureSupport.Unsupported, blockingTools: false),
        Gemini31Live(GeminiBackend.DeveloperApi),
        Gemini25NativeAudio(GeminiBackend.DeveloperApi, "gemini-2.5-flash-native-audio-preview-12-2025", ga: false, nonBlockingTools: true),
        Gemini25NativeAudio(GeminiBackend.DeveloperApi, "gemini-2.5-flash-native-audio-preview-09-2025", ga: false, nonBlockingTools: true),
        Gemini25NativeAudio(GeminiBackend.DeveloperApi, "gemini-2.5-flash-native-audio-latest", ga: false, nonBlockingTools: true),
        HalfCascade(GeminiBackend.DeveloperApi, "gemini-live-2.5-flash-preview", nonBlockingTools: true),
        HalfCascade(GeminiBackend.DeveloperApi, "gemini-2.0-flash-live-001", nonBlockingTools: true),

        // Vertex AI: no NON_BLOCKING tools on any model before 3.8 (reference §2d).
        Gemini38Live(GeminiBackend.VertexAI, "gemini-3.8-live", GeminiThinkingControl.None, NoLevels, affectiveDialog: GeminiFeatureSupport.AlwaysOn, blockingTools: true),
        Gemini31Live(GeminiBackend.VertexAI),
        Gemini25NativeAudio(GeminiBackend.VertexAI, "gemini-live-2.5-flash-native-audio", ga: true, nonBlockingTools: false),
        Gemini25NativeAudio(GeminiBackend.VertexAI, "gemini-live-2.5-flash-preview-native-audio-09-2025", ga: false, nonBlockingTools: false),
        HalfCascade(GeminiBackend.VertexAI, "gemini-live-2.5-flash", nonBlockingTools: false),
        HalfCascade(GeminiBackend.VertexAI, "gemini-2.0-flash-live-preview-04-09", nonBlockingTools: false),
    }.ToFrozenDictionary(m => (m.Backend, m.Id));

    /// <summary>Every known model, for documentation and tests.</summary>
    public static IEnumerable<GeminiModelCapabilities> All => Models.Values;

    /// <summary>The model used when <see cref="GeminiOptions.Model"/> is not set.</summary>
    public static string DefaultModel(GeminiBackend backend) =>
        backend == GeminiBackend.VertexAI ? VertexDefault : DeveloperApiDefault;

    /// <summary>The configured model id, or the backend's default.</summary>
    public static string ResolveModel(GeminiOptions options) =>
        string.IsNullOrWhiteSpace(options.Model) ? DefaultModel(options.Backend) : options.Model.Trim();

    /// <summary>The capabilities of a model (an id or a full resource name) on a backend; null when the table does not know it.</summary>
    public static GeminiModelCapabilities? Find(GeminiBackend backend, string model) =>
        Models.GetValueOrDefault((backend, GeminiEndpoint.ModelId(model)));

    /// <summary>Whether the id is a model of the other backend (a common mistake: the two name their models differently).</summary>
    public static bool IsModelOfOtherBackend(GeminiBackend backend, string model)
    {
        var other = backend == GeminiBackend.VertexAI ? GeminiBackend.DeveloperApi : GeminiBackend.VertexAI;
        return Find(backend, model) is null && Find(other, model) is not null;
    }

    /// <summary>
    /// What the model refuses in the options, one message per refusal, each naming the option's
    /// configuration path (under <paramref name="section"/>) and the model.
    /// </summary>
    public static IEnumerable<string> CheckOptions(GeminiModelCapabilities model, GeminiOptions options, string section)
    {
        if (options.ThinkingBudget is not null && model.Thinking != GeminiThinkingControl.Budget)
        {
            yield return $"{section}:ThinkingBudget is not supported by the model '{model.Id}'{ThinkingHint(model, section)}.";
        }

        if (!string.IsNullOrWhiteSpace(options.ThinkingLevel))
        {
            var level = options.ThinkingLevel.Trim().ToUpperInvariant();
            if (model.Thinking != GeminiThinkingControl.Level)
            {
                yield return $"{section}:ThinkingLevel is not supported by the model '{model.Id}'{ThinkingHint(model, section)}.";
            }
            else if (!model.ThinkingLevels.Contains(level))
            {
                yield return $"{section}:ThinkingLevel '{options.ThinkingLevel}' is not one the model '{model.Id}' accepts ({string.Join(", ", model.ThinkingLevels.Order(StringComparer.Ordinal))}).";
            }
        }

        if (options.EnableAffectiveDialog && model.AffectiveDialog == GeminiFeatureSupport.Unsupported)
        {
            yield return $"{section}:EnableAffectiveDialog is not supported by the model '{model.Id}'; remove it or choose a Gemini 2.5 native-audio model.";
        }

        if (options.ProactiveAudio && model.ProactiveAudio == GeminiFeatureSupport.Unsupported)
        {
            yield return $"{section}:ProactiveAudio is not supported by the model '{model.Id}'; remove it or choose a Gemini 2.5 native-audio model.";
        }

        if (model.ApiVersionForOptionalFeatures is { } required
            && ((options.EnableAffectiveDialog && model.AffectiveDialog == GeminiFeatureSupport.Optional)
                || (options.ProactiveAudio && model.ProactiveAudio == GeminiFeatureSupport.Optional))
            && !string.Equals(GeminiEndpoint.ResolveApiVersion(options), required, StringComparison.Ordinal))
        {
            var option = options.EnableAffectiveDialog ? "EnableAffectiveDialog" : "ProactiveAudio";
            yield return $"{section}:{option} needs {section}:ApiVersion '{required}' on the Developer API (model '{model.Id}'); it is '{GeminiEndpoint.ResolveApiVersion(options)}'.";
        }

        if (CheckVoice(model, options.Voice) is { } voice)
        {
            yield return $"{section}:Voice {voice}";
        }

        if (options.MediaResolution != MediaResolution.Default && !model.VideoInput)
        {
            yield return $"{section}:MediaResolution is not supported by the model '{model.Id}', which takes no video; remove it or choose a model with video input.";
        }
    }

    /// <summary>
    /// The tools the model cannot run as added, one message per tool naming it and the model: non-blocking tools
    /// on a model that runs every tool blocking, blocking tools on a model that runs only non-blocking ones.
    /// </summary>
    public static IEnumerable<string> CheckTools(GeminiModelCapabilities model, IEnumerable<ToolRegistration> tools, string section)
    {
        foreach (var tool in tools)
        {
            if (tool.NonBlocking && !model.NonBlockingTools)
            {
                yield return $"The tool '{tool.Tool.Name}' is added with VoiceToolOptions.NonBlocking, which the model '{model.Id}' ({section}:Model) does not support; add it as a blocking tool or choose a model that runs non-blocking tools.";
            }
            else if (!tool.NonBlocking && !model.BlockingTools)
            {
                yield return $"The tool '{tool.Tool.Name}' is added as a blocking tool, which the model '{model.Id}' ({section}:Model) does not support (it runs only non-blocking tools); add it with VoiceToolOptions.NonBlocking or choose a model that runs blocking tools.";
            }
        }
    }

    /// <summary>
    /// Whether a blocking tool is declared with an explicit <c>"behavior":"BLOCKING"</c>: on a known model whose
    /// functions are non-blocking unless declared otherwise, so a tool means the same on every model. Other models
    /// (older ones, and unknown ones, which are used as configured) get no behavior: their own default.
    /// </summary>
    public static bool DeclaresBlocking(GeminiBackend backend, string model) =>
        Find(backend, model) is { NonBlockingByDefault: true };

    /// <summary>
    /// What a session's own settings (after the client's values and session hooks) would make the model refuse;
    /// null when they are fine. Unknown models are not checked.
    /// </summary>
    public static string? CheckSession(GeminiModelCapabilities? model, LiveSessionSetup setup)
    {
        if (!string.IsNullOrWhiteSpace(setup.Language) && !IsLanguageTag(setup.Language))
        {
            return $"The language '{setup.Language}' is not a BCP-47 language code such as 'en-US'.";
        }

        if (model is not null && CheckVoice(model, setup.Voice) is { } voice)
        {
            return $"The voice {voice}";
        }

        return null;
    }

    /// <summary>Whether a language value looks like a BCP-47 tag (what <c>speechConfig.languageCode</c> takes).</summary>
    public static bool IsLanguageTag(string value) => LanguageTag().IsMatch(value.Trim());

    // The rest of a sentence about a voice the model does not have (both start-up and session messages use it).
    private static string? CheckVoice(GeminiModelCapabilities model, string? voice)
    {
        if (string.IsNullOrWhiteSpace(voice) || model.Voices.Contains(voice.Trim()))
        {
            return null;
        }

        var kind = model.NativeAudio ? "native-audio" : "half-cascade";
        return $"'{voice}' is not one of the {model.Voices.Count} voices of the {kind} model '{model.Id}' ({string.Join(", ", model.Voices.Order(StringComparer.Ordinal))}).";
    }

    private static string ThinkingHint(GeminiModelCapabilities model, string section) => model.Thinking switch
    {
        GeminiThinkingControl.Budget => $"; it takes {section}:ThinkingBudget",
        GeminiThinkingControl.Level => $"; it takes {section}:ThinkingLevel",
        _ => "; it takes no thinking setting",
    };

    // Gemini 3.8 runs functions non-blocking unless declared BLOCKING; extended thinking runs them non-blocking only.
    private static GeminiModelCapabilities Gemini38Live(GeminiBackend backend, string id, GeminiThinkingControl thinking, FrozenSet<string> levels, GeminiFeatureSupport affectiveDialog, bool blockingTools) =>
        new(id, backend, NativeAudio: true, GenerallyAvailable: true, thinking, levels, affectiveDialog,
            ProactiveAudio: GeminiFeatureSupport.AlwaysOn, NonBlockingTools: true, blockingTools, NonBlockingByDefault: true, VideoInput: true, NativeAudioVoices);

    private static GeminiModelCapabilities Gemini31Live(GeminiBackend backend) =>
        new("gemini-3.1-flash-live-preview", backend, NativeAudio: true, GenerallyAvailable: false, GeminiThinkingControl.Level, Gemini31Levels,
            GeminiFeatureSupport.Unsupported, GeminiFeatureSupport.Unsupported, NonBlockingTools: false, BlockingTools: true, NonBlockingByDefault: false, VideoInput: true, NativeAudioVoices);

    private static GeminiModelCapabilities Gemini25NativeAudio(GeminiBackend backend, string id, bool ga, bool nonBlockingTools) =>
        new(id, backend, NativeAudio: true, GenerallyAvailable: ga, GeminiThinkingControl.Budget, NoLevels,
            GeminiFeatureSupport.Optional, GeminiFeatureSupport.Optional, nonBlockingTools, BlockingTools: true, NonBlockingByDefault: false, VideoInput: true, NativeAudioVoices);

    private static GeminiModelCapabilities HalfCascade(GeminiBackend backend, string id, bool nonBlockingTools) =>
        new(id, backend, NativeAudio: false, GenerallyAvailable: false, GeminiThinkingControl.None, NoLevels,
            GeminiFeatureSupport.Unsupported, GeminiFeatureSupport.Unsupported, nonBlockingTools, BlockingTools: true, NonBlockingByDefault: false, VideoInput: true, HalfCascadeVoices);

    private static FrozenSet<string> Names(params string[] names) => names.ToFrozenSet(StringComparer.OrdinalIgnoreCase);

    // A primary language subtag and optional subtags (region, script, variant): en, en-US, es-419, cmn-Hans-CN.
    [GeneratedRegex("^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$", RegexOptions.CultureInvariant)]
    private static partial Regex LanguageTag();
}
