using Microsoft.Extensions.AI;

namespace VoiceChat.Tools;

/// <summary>One tool added with <c>AddTool</c>.</summary>
internal sealed record ToolRegistration(AIFunction Tool);

/// <summary>The application's tools, by name.</summary>
internal sealed class ToolRegistry
{
    private readonly Dictionary<string, AIFunction> _byName;

    public ToolRegistry(IEnumerable<ToolRegistration> registrations)
    {
        Tools = registrations.Select(r => r.Tool).ToArray();
        _byName = new Dictionary<string, AIFunction>(StringComparer.Ordinal);
        foreach (var tool in Tools)
        {
            _byName[tool.Name] = tool;
        }
    }

    public IReadOnlyList<AIFunction> Tools { get; }

    public AIFunction? Find(string name) => _byName.GetValueOrDefault(name);

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
