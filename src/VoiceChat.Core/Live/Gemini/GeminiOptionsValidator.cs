using Microsoft.Extensions.Options;

namespace VoiceChat.Live.Gemini;

/// <summary>Checks <c>VoiceChat:Gemini</c> at start-up, with messages that say what to set.</summary>
internal sealed class GeminiOptionsValidator : IValidateOptions<VoiceChatOptions>
{
    private const string Section = VoiceChatOptions.SectionName + ":Gemini";

    public ValidateOptionsResult Validate(string? name, VoiceChatOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var gemini = options.Gemini;
        if (gemini is null)
        {
            return ValidateOptionsResult.Fail($"{Section} is missing.");
        }

        var failures = new List<string>();
        if (string.IsNullOrWhiteSpace(gemini.Model))
        {
            failures.Add($"{Section}:Model is empty; set a Live model id such as 'gemini-2.5-flash-native-audio-preview-12-2025'.");
        }

        switch (gemini.Backend)
        {
            case GeminiBackend.DeveloperApi:
                if (string.IsNullOrWhiteSpace(gemini.ApiKey))
                {
                    failures.Add($"{Section}:ApiKey is required for the DeveloperApi backend (environment variable VoiceChat__Gemini__ApiKey), or set {Section}:Backend to VertexAI.");
                }

                break;
            case GeminiBackend.VertexAI:
                if (GeminiEndpoint.ResolveProject(gemini) is null)
                {
                    failures.Add($"{Section}:Project (or the environment variable GOOGLE_CLOUD_PROJECT) is required for the VertexAI backend.");
                }

                break;
            default:
                failures.Add($"{Section}:Backend must be DeveloperApi or VertexAI.");
                break;
        }

        if (gemini.BaseUrl is { } baseUrl && (!baseUrl.IsAbsoluteUri || baseUrl.Scheme is not ("http" or "https" or "ws" or "wss")))
        {
            failures.Add($"{Section}:BaseUrl must be an absolute http, https, ws or wss URL.");
        }

        if (gemini.SetupTimeout <= TimeSpan.Zero)
        {
            failures.Add($"{Section}:SetupTimeout must be greater than zero.");
        }

        if (gemini.ToolTimeout <= TimeSpan.Zero)
        {
            failures.Add($"{Section}:ToolTimeout must be greater than zero.");
        }

        if (!IsKeepAliveTime(gemini.KeepAliveInterval))
        {
            failures.Add($"{Section}:KeepAliveInterval must be between 0 (no keep-alive) and 10 minutes.");
        }

        if (!IsKeepAliveTime(gemini.KeepAliveTimeout))
        {
            failures.Add($"{Section}:KeepAliveTimeout must be between 0 (wait for no answer) and 10 minutes.");
        }

        if (gemini.MaxReconnectAttempts < 0)
        {
            failures.Add($"{Section}:MaxReconnectAttempts must not be negative.");
        }

        if (gemini.ReconnectDelay < TimeSpan.Zero)
        {
            failures.Add($"{Section}:ReconnectDelay must not be negative.");
        }

        if (gemini.ReconnectAudioBuffer <= TimeSpan.Zero || gemini.ReconnectAudioBuffer > TimeSpan.FromMinutes(5))
        {
            failures.Add($"{Section}:ReconnectAudioBuffer must be greater than zero and at most 5 minutes.");
        }

        if (!string.IsNullOrWhiteSpace(gemini.CredentialsFile) && !File.Exists(gemini.CredentialsFile))
        {
            failures.Add($"{Section}:CredentialsFile names a file that does not exist.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private static bool IsKeepAliveTime(TimeSpan time) => time >= TimeSpan.Zero && time <= TimeSpan.FromMinutes(10);
}
