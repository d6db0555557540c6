using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using static VoiceChat.Testing.Wire.ProtoJson;

namespace VoiceChat.Testing.Sessions.Setup;

/// <summary>Why a <c>setup</c> was refused: the close Google sends for it.</summary>
internal readonly record struct SetupRejection(WebSocketCloseStatus Status, string Reason);

/// <summary>
/// Validates a <c>setup</c> message as strictly as Google does (unknown fields, the model's name and
/// availability, the backend's and the model generation's restrictions) and reads what it asks for.
/// </summary>
internal static class SetupReader
{
    private static readonly HashSet<string> SetupFields = new(StringComparer.Ordinal)
    {
        "model", "generationConfig", "systemInstruction", "tools", "toolConfig", "realtimeInputConfig",
        "inputAudioTranscription", "outputAudioTranscription", "sessionResumption", "contextWindowCompression",
        "proactivity", "historyConfig", "explicitVadSignal", "safetySettings",
    };

    private static readonly string[] MediaResolutions =
        ["MEDIA_RESOLUTION_UNSPECIFIED", "MEDIA_RESOLUTION_LOW", "MEDIA_RESOLUTION_MEDIUM", "MEDIA_RESOLUTION_HIGH"];

    private static readonly string[] TurnCoverages =
        ["TURN_COVERAGE_UNSPECIFIED", "TURN_INCLUDES_ONLY_ACTIVITY", "TURN_INCLUDES_ALL_INPUT", "TURN_INCLUDES_AUDIO_ACTIVITY_AND_ALL_VIDEO"];

    // An enum value the service does not know is an invalid argument.
    private static bool IsOneOf(JsonElement value, string[] names) =>
        value.ValueKind == JsonValueKind.String && Array.IndexOf(names, value.GetString()) >= 0;

    private static SetupRejection InvalidArgument => new(WebSocketCloseStatus.InvalidPayloadData, EmulatorCloseReasons.InvalidArgument);

    /// <summary>Reads <paramref name="message"/> (<c>{"setup":{…}}</c>); records the setup and its functions on <paramref name="record"/> as they are read.</summary>
    /// <returns>The setup, or null with <paramref name="rejection"/> set.</returns>
    public static SessionSetup? Read(ReadOnlyMemory<byte> message, EmulatorConnection record, LiveApiEmulatorOptions options, out SetupRejection rejection)
    {
        rejection = InvalidArgument;
        var backend = record.Backend;
        using var document = JsonDocument.Parse(message);
        var setup = document.RootElement.EnumerateObject().First().Value;
        if (setup.ValueKind != JsonValueKind.Object)
        {
            return null;
        }

        foreach (var property in setup.EnumerateObject())
        {
            if (!SetupFields.Contains(ToCamel(property.Name)))
            {
                rejection = new(WebSocketCloseStatus.InvalidPayloadData, EmulatorCloseReasons.UnknownField(property.Name, "setup"));
                return null;
            }
        }

        if (!TryGet(setup, "model", out var modelElement) || modelElement.ValueKind != JsonValueKind.String || string.IsNullOrEmpty(modelElement.GetString()))
        {
            return null;
        }

        var model = modelElement.GetString()!;
        record.RecordSetup(Encoding.UTF8.GetString(message.Span), model);
        var modelId = ParseModelId(model, backend);
        if (modelId is null || !options.KnownModels.Contains(modelId))
        {
            var reason = backend == GeminiBackend.VertexAI
                ? $"Publisher Model `{model}` not found."
                : EmulatorCloseReasons.ModelNotFound(model, record.ApiVersion);
            rejection = new(WebSocketCloseStatus.PolicyViolation, reason);
            return null;
        }

        var gen3 = modelId.StartsWith("gemini-3", StringComparison.Ordinal);
        var gemini38 = Gemini38Rules.Applies(modelId);
        if (gemini38 && Gemini38Rules.CheckSetup(setup, modelId, backend) is { } refused)
        {
            rejection = refused;
            return null;
        }

        var textModality = false;
        var suppressSetupComplete = options.SuppressSetupComplete;
        if (TryGet(setup, "generationConfig", out var generation) && generation.ValueKind == JsonValueKind.Object)
        {
            if (TryGet(generation, "responseModalities", out var modalities) && modalities.ValueKind == JsonValueKind.Array)
            {
                var audio = false;
                var text = false;
                foreach (var modality in modalities.EnumerateArray())
                {
                    audio |= string.Equals(modality.GetString(), "AUDIO", StringComparison.OrdinalIgnoreCase);
                    text |= string.Equals(modality.GetString(), "TEXT", StringComparison.OrdinalIgnoreCase);
                }

                if (audio && text)
                {
                    // Exactly one response modality per session.
                    return null;
                }

                textModality = text;
            }

            if (TryGet(generation, "mediaResolution", out var resolution) && !IsOneOf(resolution, MediaResolutions))
            {
                return null;
            }

            // Gemini 3.1 with affective dialog never completes setup (a fatal setup error seen in the wild).
            suppressSetupComplete |= gen3 && !gemini38 && TryGet(generation, "enableAffectiveDialog", out _);
        }

        suppressSetupComplete |= gen3 && !gemini38 && TryGet(setup, "proactivity", out _);

        var manualActivity = false;
        TimeSpan? silence = null;
        if (TryGet(setup, "realtimeInputConfig", out var realtimeConfig) && TryGet(realtimeConfig, "automaticActivityDetection", out var detection))
        {
            manualActivity = TryGet(detection, "disabled", out var disabled) && disabled.ValueKind == JsonValueKind.True;
            if (TryGet(detection, "silenceDurationMs", out var silenceMs) && silenceMs.TryGetInt32(out var ms) && ms > 0)
            {
                silence = TimeSpan.FromMilliseconds(ms);
            }
        }

        if (TryGet(setup, "realtimeInputConfig", out var inputConfig) && TryGet(inputConfig, "turnCoverage", out var coverage) && !IsOneOf(coverage, TurnCoverages))
        {
            return null;
        }

        var historySeed = false;
        if (TryGet(setup, "historyConfig", out var history))
        {
            if (backend == GeminiBackend.VertexAI)
            {
                return null;
            }

            historySeed = TryGet(history, "initialHistoryInClientContent", out var seed) && seed.ValueKind == JsonValueKind.True;
        }

        var functions = new List<EmulatorFunctionDeclaration>();
        if (TryGet(setup, "tools", out var tools) && tools.ValueKind == JsonValueKind.Array)
        {
            foreach (var tool in tools.EnumerateArray())
            {
                if (!TryGet(tool, "functionDeclarations", out var declarations) || declarations.ValueKind != JsonValueKind.Array)
                {
                    continue;
                }

                foreach (var declaration in declarations.EnumerateArray())
                {
                    if (!TryGet(declaration, "name", out var fname) || fname.ValueKind != JsonValueKind.String)
                    {
                        return null;
                    }

                    string? description = TryGet(declaration, "description", out var d) && d.ValueKind == JsonValueKind.String ? d.GetString() : null;
                    string? parameters = TryGet(declaration, "parametersJsonSchema", out var p) || TryGet(declaration, "parameters", out p) ? p.GetRawText() : null;
                    // An enum: a name or its number; anything else fails the proto's JSON parsing.
                    var behavior = TryGet(declaration, "behavior", out var b) ? ProtoEnum(b, "UNSPECIFIED", "BLOCKING", "NON_BLOCKING") : 0;
                    if (behavior < 0)
                    {
                        return null;
                    }

                    // Gemini 3.8 runs a function without a behavior non-blocking; older models run it blocking.
                    var nonBlocking = gemini38 ? Gemini38Rules.RunsNonBlocking(behavior, modelId) : behavior == 2;
                    if (nonBlocking is null)
                    {
                        rejection = Gemini38Rules.BlockingRefused(modelId, fname.GetString()!);
                        return null;
                    }

                    functions.Add(new EmulatorFunctionDeclaration(fname.GetString()!, description, parameters) { NonBlocking = nonBlocking.Value });
                }
            }

            record.RecordFunctions(functions);
        }

        var resumption = false;
        string? resumeHandle = null;
        if (TryGet(setup, "sessionResumption", out var resumptionConfig) && resumptionConfig.ValueKind == JsonValueKind.Object)
        {
            resumption = true;
            if (backend == GeminiBackend.DeveloperApi && TryGet(resumptionConfig, "transparent", out var transparent) && transparent.ValueKind == JsonValueKind.True)
            {
                // Transparent resumption is Vertex-only; the Developer API rejects it.
                return null;
            }

            if (TryGet(resumptionConfig, "handle", out var handle))
            {
                if (handle.ValueKind != JsonValueKind.String)
                {
                    // Gemini 3.1 rejects "handle": null.
                    return null;
                }

                resumeHandle = handle.GetString();
            }
        }

        return new SessionSetup
        {
            Model = model,
            ModelId = modelId,
            IsGemini3 = gen3,
            TextModality = textModality,
            InputTranscription = TryGet(setup, "inputAudioTranscription", out _),
            OutputTranscription = TryGet(setup, "outputAudioTranscription", out _),
            ManualActivity = manualActivity,
            SilenceDuration = silence,
            HistorySeed = historySeed,
            Functions = functions,
            Resumption = resumption,
            ResumeHandle = string.IsNullOrEmpty(resumeHandle) ? null : resumeHandle,
            SuppressSetupComplete = suppressSetupComplete,
        };
    }

    private static string? ParseModelId(string model, GeminiBackend backend)
    {
        var segments = model.Split('/');
        if (backend == GeminiBackend.DeveloperApi)
        {
            return segments is ["models", { Length: > 0 } id] ? id : null;
        }

        return segments switch
        {
            ["publishers", "google", "models", { Length: > 0 } id] => id,
            ["projects", { Length: > 0 }, "locations", { Length: > 0 }, "publishers", "google", "models", { Length: > 0 } id] => id,
            _ => null,
        };
    }
}
