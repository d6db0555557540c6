using System.Net.WebSockets;
using System.Text.Json;
using static VoiceChat.Testing.Wire.ProtoJson;

namespace VoiceChat.Testing.Sessions.Setup;

/// <summary>
/// What the Gemini 3.8 Live models refuse in <c>setup</c> and how they run functions (Google's model pages and
/// migration guides): no thinking setting on <c>gemini-3.8-live</c>, levels LOW to HIGH on extended thinking,
/// proactive audio that cannot be switched off and no affective dialog on the Developer API, and functions that
/// are non-blocking unless declared <c>BLOCKING</c> (which extended thinking, async only, refuses).
/// </summary>
internal static class Gemini38Rules
{
    private const string ExtendedThinking = "gemini-3.8-live-extended-thinking";

    public static bool Applies(string modelId) => modelId.StartsWith("gemini-3.8-live", StringComparison.Ordinal);

    /// <summary>What the model refuses in <c>generationConfig</c> and <c>proactivity</c>; null when it accepts them.</summary>
    public static SetupRejection? CheckSetup(JsonElement setup, string modelId, GeminiBackend backend)
    {
        if (TryGet(setup, "generationConfig", out var generation) && generation.ValueKind == JsonValueKind.Object)
        {
            if (TryGet(generation, "thinkingConfig", out var thinking) && CheckThinking(thinking, modelId) is { } refused)
            {
                return Invalid(refused);
            }

            if (backend == GeminiBackend.DeveloperApi && TryGet(generation, "enableAffectiveDialog", out _))
            {
                return Invalid($"enable_affective_dialog is not supported for {modelId}. Remove it from the generation config.");
            }
        }

        if (backend == GeminiBackend.DeveloperApi
            && TryGet(setup, "proactivity", out var proactivity)
            && TryGet(proactivity, "proactiveAudio", out var proactive)
            && proactive.ValueKind == JsonValueKind.False)
        {
            return Invalid($"proactive_audio cannot be disabled for {modelId}.");
        }

        return null;
    }

    /// <summary>
    /// Whether a function runs non-blocking, from its <c>behavior</c> (0 unspecified, 1 BLOCKING, 2 NON_BLOCKING);
    /// null when the model refuses it (a BLOCKING function on extended thinking).
    /// </summary>
    public static bool? RunsNonBlocking(int behavior, string modelId) => behavior switch
    {
        1 when modelId == ExtendedThinking => null,
        1 => false,
        _ => true,
    };

    public static SetupRejection BlockingRefused(string modelId, string function) =>
        Invalid($"Function {function}: behavior BLOCKING is not supported for {modelId}; only NON_BLOCKING functions are.");

    private static string? CheckThinking(JsonElement thinking, string modelId)
    {
        if (modelId != ExtendedThinking)
        {
            return $"thinking_config is not supported for {modelId}. Omit thinking_config in the setup.";
        }

        if (TryGet(thinking, "thinkingBudget", out _))
        {
            return $"thinking_budget is not supported for {modelId}. Use thinking_level instead.";
        }

        // ThinkingLevel: UNSPECIFIED, MINIMAL, LOW, MEDIUM, HIGH; extended thinking takes LOW to HIGH.
        return TryGet(thinking, "thinkingLevel", out var level) && ProtoEnum(level, "THINKING_LEVEL_UNSPECIFIED", "MINIMAL", "LOW", "MEDIUM", "HIGH") < 2
            ? $"thinking_level {level} is not supported for {modelId}. Use LOW, MEDIUM or HIGH."
            : null;
    }

    private static SetupRejection Invalid(string reason) => new(WebSocketCloseStatus.InvalidPayloadData, reason);
}
