using System.Buffers.Binary;
using System.Globalization;
using System.Security.Cryptography;

namespace VoiceChat.Testing.Sessions.Tools;

/// <summary>A tool call the model will make in its next turn.</summary>
internal sealed record ToolCallPlan(string Id, string Name, string ArgumentsJson)
{
    /// <summary>The call a rule asks for (null: the first function declared in setup), or null when there is no rule or no function to call.</summary>
    public static ToolCallPlan? ForRule(EmulatorToolCallRule? rule, IReadOnlyList<EmulatorFunctionDeclaration> functions, GeminiBackend backend)
    {
        if (rule is null)
        {
            return null;
        }

        var name = rule.ToolName ?? (functions.Count > 0 ? functions[0].Name : null);
        return name is null ? null : new ToolCallPlan(NewId(backend), name, rule.ArgumentsJson);
    }

    /// <summary>A call id in the backend's own form: a GUID on Vertex AI, <c>function-call-</c> and 19 digits on the Developer API.</summary>
    public static string NewId(GeminiBackend backend)
    {
        if (backend == GeminiBackend.VertexAI)
        {
            return Guid.NewGuid().ToString();
        }

        var value = BinaryPrimitives.ReadUInt64LittleEndian(RandomNumberGenerator.GetBytes(8)) % 9_000_000_000_000_000_000UL;
        return "function-call-" + (value + 1_000_000_000_000_000_000UL).ToString(CultureInfo.InvariantCulture);
    }
}
