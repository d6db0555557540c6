using Microsoft.Extensions.AI;

namespace VoiceChat.Tools;

/// <summary>One tool added with <c>AddTool</c>, and how the model runs it.</summary>
internal sealed record ToolRegistration(AIFunction Tool, bool NonBlocking = false, VoiceToolScheduling Scheduling = VoiceToolScheduling.WhenIdle)
{
    /// <summary>The response's <c>scheduling</c> for a non-blocking tool; null for a blocking one (the service ignores it there).</summary>
    public string? WireScheduling => !NonBlocking ? null : Scheduling switch
    {
        VoiceToolScheduling.Interrupt => "INTERRUPT",
        VoiceToolScheduling.Silent => "SILENT",
        _ => "WHEN_IDLE",
    };
}

/// <summary>The application's tools, by name.</summary>
internal sealed class ToolRegistry
{
    private readonly Dictionary<string, ToolRegistration> _byName;

    public ToolRegistry(IEnumerable<ToolRegistration> registrations)
    {
        Tools = registrations.ToArray();
        _byName = new Dictionary<string, ToolRegistration>(StringComparer.Ordinal);
        foreach (var tool in Tools)
        {
            _byName[tool.Tool.Name] = tool;
        }
    }

    public IReadOnlyList<ToolRegistration> Tools { get; }

    public ToolRegistration? Find(string name) => _byName.GetValueOrDefault(name);

    /// <summary>Gemini's rule for function names: <c>[A-Za-z0-9_.:-]</c>, at most 64 characters.</summary>
    public static string? ValidateName(string? name)
    {
        if (string.IsNullOrEmpty(name))
        {
            return "A tool needs a name.";
        }

        if (name.Length > 64)
        {
            return $"The tool name '{name}' is longer than 64 characters.";
        }

        foreach (var c in name)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '_' or '.' or ':' or '-'))
            {
                return $"The tool name '{name}' may only contain letters A-Z and a-z, digits, '_', '.', ':' and '-'.";
            }
        }

        return null;
    }
}
