using System.Globalization;
using System.Text.Json;

namespace VoiceChat.Testing.Wire;

/// <summary>Token counts of one turn, written with Developer API or Vertex AI field names.</summary>
internal readonly record struct TurnUsage(int PromptTokens, int ResponseTokens, string PromptModality, string ResponseModality, bool Vertex);

/// <summary>Writers of the server messages of the Live API (§3 of the reference), one JSON object each.</summary>
internal static class ServerMessages
{
    public static void SetupComplete(Utf8JsonWriter json, string? sessionId)
    {
        json.WriteStartObject();
        json.WriteStartObject("setupComplete");
        if (sessionId is not null)
        {
            json.WriteString("sessionId", sessionId);
        }

        json.WriteEndObject();
        json.WriteEndObject();
    }

    public static void Transcription(Utf8JsonWriter json, (bool Input, string Text, bool Finished) message)
    {
        json.WriteStartObject();
        json.WriteStartObject("serverContent");
        json.WriteStartObject(message.Input ? "inputTranscription" : "outputTranscription");
        json.WriteString("text", message.Text);
        if (message.Finished)
        {
            json.WriteBoolean("finished", true);
        }

        json.WriteEndObject();
        json.WriteEndObject();
        json.WriteEndObject();
    }

    public static void ModelText(Utf8JsonWriter json, string text)
    {
        json.WriteStartObject();
        json.WriteStartObject("serverContent");
        json.WriteStartObject("modelTurn");
        json.WriteString("role", "model");
        json.WriteStartArray("parts");
        json.WriteStartObject();
        json.WriteString("text", text);
        json.WriteEndObject();
        json.WriteEndArray();
        json.WriteEndObject();
        json.WriteEndObject();
        json.WriteEndObject();
    }

    /// <summary><c>{"serverContent":{"&lt;flag&gt;":true}}</c>: generationComplete, interrupted.</summary>
    public static void Flag(Utf8JsonWriter json, string flag)
    {
        json.WriteStartObject();
        json.WriteStartObject("serverContent");
        json.WriteBoolean(flag, true);
        json.WriteEndObject();
        json.WriteEndObject();
    }

    public static void TurnComplete(Utf8JsonWriter json, TurnUsage usage)
    {
        json.WriteStartObject();
        json.WriteStartObject("serverContent");
        json.WriteBoolean("turnComplete", true);
        json.WriteEndObject();
        json.WriteStartObject("usageMetadata");
        json.WriteNumber("promptTokenCount", usage.PromptTokens);
        json.WriteNumber(usage.Vertex ? "candidatesTokenCount" : "responseTokenCount", usage.ResponseTokens);
        json.WriteNumber("totalTokenCount", usage.PromptTokens + usage.ResponseTokens);
        json.WriteStartArray("promptTokensDetails");
        WriteDetail(json, usage.PromptModality, usage.PromptTokens);
        json.WriteEndArray();
        json.WriteStartArray(usage.Vertex ? "candidatesTokensDetails" : "responseTokensDetails");
        WriteDetail(json, usage.ResponseModality, usage.ResponseTokens);
        json.WriteEndArray();
        if (usage.Vertex)
        {
            json.WriteString("trafficType", "ON_DEMAND");
        }

        json.WriteEndObject();
        json.WriteEndObject();
    }

    public static void ToolCall(Utf8JsonWriter json, (string Id, string Name, string ArgumentsJson) call)
    {
        json.WriteStartObject();
        json.WriteStartObject("toolCall");
        json.WriteStartArray("functionCalls");
        json.WriteStartObject();
        json.WriteString("id", call.Id);
        json.WriteString("name", call.Name);
        json.WritePropertyName("args");
        json.WriteRawValue(call.ArgumentsJson);
        json.WriteEndObject();
        json.WriteEndArray();
        json.WriteEndObject();
        json.WriteEndObject();
    }

    public static void ToolCallCancellation(Utf8JsonWriter json, IReadOnlyList<string> ids)
    {
        json.WriteStartObject();
        json.WriteStartObject("toolCallCancellation");
        json.WriteStartArray("ids");
        foreach (var id in ids)
        {
            json.WriteStringValue(id);
        }

        json.WriteEndArray();
        json.WriteEndObject();
        json.WriteEndObject();
    }

    public static void GoAway(Utf8JsonWriter json, TimeSpan timeLeft)
    {
        json.WriteStartObject();
        json.WriteStartObject("goAway");
        json.WriteString("timeLeft", ((long)Math.Ceiling(timeLeft.TotalSeconds)).ToString(CultureInfo.InvariantCulture) + "s");
        json.WriteEndObject();
        json.WriteEndObject();
    }

    public static void ResumptionUpdate(Utf8JsonWriter json, string? newHandle)
    {
        json.WriteStartObject();
        json.WriteStartObject("sessionResumptionUpdate");
        if (newHandle is not null)
        {
            json.WriteString("newHandle", newHandle);
            json.WriteBoolean("resumable", true);
        }
        else
        {
            // While generating or running a tool, Google says the session cannot be resumed right now.
            json.WriteBoolean("resumable", false);
        }

        json.WriteEndObject();
        json.WriteEndObject();
    }

    private static void WriteDetail(Utf8JsonWriter json, string modality, int tokens)
    {
        json.WriteStartObject();
        json.WriteString("modality", modality);
        json.WriteNumber("tokenCount", tokens);
        json.WriteEndObject();
    }
}
