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

    /// <summary>
    /// A proto enum value as proto3 JSON takes it: one of <paramref name="names"/> (its index is the number) or
    /// that number; -1 for anything else, which Google refuses with "Invalid value at …".
    /// </summary>
    public static int ProtoEnum(JsonElement value, params ReadOnlySpan<string> names)
    {
        if (value.ValueKind == JsonValueKind.String)
        {
            var text = value.GetString();
            for (var i = 0; i < names.Length; i++)
            {
                if (string.Equals(names[i], text, StringComparison.Ordinal))
                {
                    return i;
                }
            }

            return -1;
        }

        return value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out var number) && number >= 0 && number < names.Length ? number : -1;
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
