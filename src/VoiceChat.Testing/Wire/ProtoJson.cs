using System.Text;
using System.Text.Json;

namespace VoiceChat.Testing.Wire;

/// <summary>proto3 JSON field names: the emulator accepts lowerCamel and snake_case, as Google does.</summary>
internal static class ProtoJson
{
    public static bool TryGet(JsonElement element, string camelName, out JsonElement value)
    {
        value = default;
        if (element.ValueKind != JsonValueKind.Object)
        {
            return false;
        }

        if (element.TryGetProperty(camelName, out value))
        {
            return true;
        }

        // proto3 JSON also accepts snake_case names.
        return element.TryGetProperty(ToSnake(camelName), out value);
    }

    private static string ToSnake(string camel)
    {
        var builder = new StringBuilder(camel.Length + 4);
        foreach (var c in camel)
        {
            if (char.IsUpper(c))
            {
                builder.Append('_').Append(char.ToLowerInvariant(c));
            }
            else
            {
                builder.Append(c);
            }
        }

        return builder.ToString();
    }

    public static string ToCamel(string name)
    {
        if (!name.Contains('_', StringComparison.Ordinal))
        {
            return name;
        }

        var builder = new StringBuilder(name.Length);
        var upper = false;
        foreach (var c in name)
        {
            if (c == '_')
            {
                upper = true;
                continue;
            }

            builder.Append(upper ? char.ToUpperInvariant(c) : c);
            upper = false;
        }

        return builder.ToString();
    }
}
