using System.Buffers;
using System.Text.Json;
using VoiceChat.Tools;

namespace VoiceChat.Live.Gemini;

/// <summary>Writes the <c>setup</c> message: the first message of every connection.</summary>
internal static class GeminiSetupBuilder
{
    public static byte[] Build(
        GeminiOptions options,
        LiveSessionSetup session,
        string modelName,
        IReadOnlyList<ToolRegistration> tools,
        string? resumptionHandle)
    {
        var family = GeminiModelFamilies.Of(modelName);
        var buffer = new ArrayBufferWriter<byte>(1024);
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteStartObject("setup");
            json.WriteString("model", modelName);

            WriteGenerationConfig(json, options, session, family);

            if (!string.IsNullOrWhiteSpace(session.SystemInstruction))
            {
                json.WriteStartObject("systemInstruction");
                json.WriteStartArray("parts");
                json.WriteStartObject();
                json.WriteString("text", session.SystemInstruction);
                json.WriteEndObject();
                json.WriteEndArray();
                json.WriteEndObject();
            }

            if (tools.Count > 0)
            {
                json.WriteStartArray("tools");
                json.WriteStartObject();
                json.WriteStartArray("functionDeclarations");
                var declareBlocking = GeminiModelCatalog.DeclaresBlocking(options.Backend, modelName);
                foreach (var registration in tools)
                {
                    var tool = registration.Tool;
                    json.WriteStartObject();
                    json.WriteString("name", tool.Name);
                    if (!string.IsNullOrEmpty(tool.Description))
                    {
                        json.WriteString("description", tool.Description);
                    }

                    json.WritePropertyName("parametersJsonSchema");
                    tool.JsonSchema.WriteTo(json);
                    if (registration.NonBlocking)
                    {
                        json.WriteString("behavior", "NON_BLOCKING");
                    }
                    else if (declareBlocking)
                    {
                        json.WriteString("behavior", "BLOCKING");
                    }

                    json.WriteEndObject();
                }

                json.WriteEndArray();
                json.WriteEndObject();
                json.WriteEndArray();
            }

            WriteRealtimeInputConfig(json, options);

            if (options.InputTranscription)
            {
                json.WriteStartObject("inputAudioTranscription");
                json.WriteEndObject();
            }

            if (options.OutputTranscription)
            {
                json.WriteStartObject("outputAudioTranscription");
                json.WriteEndObject();
            }

            // Always ask for resumption handles; a null handle is never sent (Gemini 3 rejects it).
            json.WriteStartObject("sessionResumption");
            if (!string.IsNullOrEmpty(resumptionHandle))
            {
                json.WriteString("handle", resumptionHandle);
            }

            json.WriteEndObject();

            // The service ends audio and video sessions after 2 minutes without compression.
            if (options.ContextWindowCompression || session.Request.Video)
            {
                json.WriteStartObject("contextWindowCompression");
                if (options.CompressionTriggerTokens is { } trigger)
                {
                    json.WriteNumber("triggerTokens", trigger);
                }

                json.WriteStartObject("slidingWindow");
                json.WriteEndObject();
                json.WriteEndObject();
            }

            if (options.ProactiveAudio && family == GeminiModelFamily.Gemini2)
            {
                json.WriteStartObject("proactivity");
                json.WriteBoolean("proactiveAudio", true);
                json.WriteEndObject();
            }

            json.WriteEndObject();
            json.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    private static void WriteGenerationConfig(Utf8JsonWriter json, GeminiOptions options, LiveSessionSetup session, GeminiModelFamily family)
    {
        json.WriteStartObject("generationConfig");
        json.WriteStartArray("responseModalities");
        json.WriteStringValue("AUDIO");
        json.WriteEndArray();

        if (!string.IsNullOrWhiteSpace(session.Voice) || !string.IsNullOrWhiteSpace(session.Language))
        {
            json.WriteStartObject("speechConfig");
            if (!string.IsNullOrWhiteSpace(session.Voice))
            {
                json.WriteStartObject("voiceConfig");
                json.WriteStartObject("prebuiltVoiceConfig");
                json.WriteString("voiceName", session.Voice);
                json.WriteEndObject();
                json.WriteEndObject();
            }

            if (!string.IsNullOrWhiteSpace(session.Language))
            {
                json.WriteString("languageCode", session.Language);
            }

            json.WriteEndObject();
        }

        if (options.Temperature is { } temperature)
        {
            json.WriteNumber("temperature", temperature);
        }

        if (options.TopP is { } topP)
        {
            json.WriteNumber("topP", topP);
        }

        if (options.TopK is { } topK)
        {
            json.WriteNumber("topK", topK);
        }

        if (options.MaxOutputTokens is { } maxOutputTokens)
        {
            json.WriteNumber("maxOutputTokens", maxOutputTokens);
        }

        if (family == GeminiModelFamily.Gemini3 && !string.IsNullOrWhiteSpace(options.ThinkingLevel))
        {
            json.WriteStartObject("thinkingConfig");
            json.WriteString("thinkingLevel", options.ThinkingLevel.Trim().ToUpperInvariant());
            json.WriteEndObject();
        }
        else if (family == GeminiModelFamily.Gemini2 && options.ThinkingBudget is { } budget)
        {
            json.WriteStartObject("thinkingConfig");
            json.WriteNumber("thinkingBudget", budget);
            json.WriteEndObject();
        }

        if (options.MediaResolution != MediaResolution.Default)
        {
            json.WriteString("mediaResolution", options.MediaResolution switch
            {
                MediaResolution.Low => "MEDIA_RESOLUTION_LOW",
                MediaResolution.Medium => "MEDIA_RESOLUTION_MEDIUM",
                _ => "MEDIA_RESOLUTION_HIGH",
            });
        }

        // Gemini 3 never confirms a setup with affective dialog or proactivity (reference §2a).
        if (options.EnableAffectiveDialog && family == GeminiModelFamily.Gemini2)
        {
            json.WriteBoolean("enableAffectiveDialog", true);
        }

        json.WriteEndObject();
    }

    private static void WriteRealtimeInputConfig(Utf8JsonWriter json, GeminiOptions options)
    {
        json.WriteStartObject("realtimeInputConfig");
        json.WriteStartObject("automaticActivityDetection");
        if (options.ActivityDetection == ActivityDetectionMode.Manual)
        {
            json.WriteBoolean("disabled", true);
        }
        else
        {
            json.WriteBoolean("disabled", false);
            if (options.StartOfSpeechSensitivity != SpeechSensitivity.Default)
            {
                json.WriteString("startOfSpeechSensitivity", options.StartOfSpeechSensitivity == SpeechSensitivity.High ? "START_SENSITIVITY_HIGH" : "START_SENSITIVITY_LOW");
            }

            if (options.EndOfSpeechSensitivity != SpeechSensitivity.Default)
            {
                json.WriteString("endOfSpeechSensitivity", options.EndOfSpeechSensitivity == SpeechSensitivity.High ? "END_SENSITIVITY_HIGH" : "END_SENSITIVITY_LOW");
            }

            if (options.PrefixPaddingMs is { } prefix)
            {
                json.WriteNumber("prefixPaddingMs", prefix);
            }

            if (options.SilenceDurationMs is { } silence)
            {
                json.WriteNumber("silenceDurationMs", silence);
            }
        }

        json.WriteEndObject();
        json.WriteString("activityHandling", options.InterruptOnSpeech ? "START_OF_ACTIVITY_INTERRUPTS" : "NO_INTERRUPTION");
        if (options.TurnCoverage != TurnCoverage.Default)
        {
            json.WriteString("turnCoverage", options.TurnCoverage switch
            {
                TurnCoverage.OnlyActivity => "TURN_INCLUDES_ONLY_ACTIVITY",
                TurnCoverage.AllInput => "TURN_INCLUDES_ALL_INPUT",
                _ => "TURN_INCLUDES_AUDIO_ACTIVITY_AND_ALL_VIDEO",
            });
        }

        json.WriteEndObject();
    }
}
