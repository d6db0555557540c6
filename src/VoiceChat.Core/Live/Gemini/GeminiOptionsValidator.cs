using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using VoiceChat.Tools;

namespace VoiceChat.Live.Gemini;

/// <summary>
/// Checks <c>VoiceChat:Gemini</c> at start-up, with messages that say what to set, including what the
/// configured model accepts (<see cref="GeminiModelCatalog"/>). A model the catalog does not know is
/// accepted unchecked, with a warning: a newer model must keep working.
/// </summary>
internal sealed partial class GeminiOptionsValidator : IValidateOptions<VoiceChatOptions>
{
    private const string Section = VoiceChatOptions.SectionName + ":Gemini";

    private readonly ILogger _logger;

    // Options are validated more than once (ValidateOnStart, then the first IOptions read): warn once per setting.
    private readonly HashSet<string> _warned = [];

    private readonly IReadOnlyList<ToolRegistration> _tools;

    public GeminiOptionsValidator(ILogger<GeminiOptionsValidator>? logger = null, IEnumerable<ToolRegistration>? tools = null)
    {
        _logger = logger ?? NullLogger<GeminiOptionsValidator>.Instance;
        _tools = tools?.ToArray() ?? [];
    }

    public ValidateOptionsResult Validate(string? name, VoiceChatOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var gemini = options.Gemini;
        if (gemini is null)
        {
            return ValidateOptionsResult.Fail($"{Section} is missing.");
        }

        var failures = new List<string>();
        if (gemini.Model is not null && string.IsNullOrWhiteSpace(gemini.Model))
        {
            failures.Add($"{Section}:Model is empty; remove it for the backend's default or set a Live model id such as '{GeminiModelCatalog.DefaultModel(gemini.Backend)}'.");
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

        if (!string.IsNullOrWhiteSpace(gemini.Language) && !GeminiModelCatalog.IsLanguageTag(gemini.Language))
        {
            failures.Add($"{Section}:Language '{gemini.Language}' is not a BCP-47 language code such as 'en-US'.");
        }

        if (!Enum.IsDefined(gemini.MediaResolution))
        {
            failures.Add($"{Section}:MediaResolution must be Default, Low, Medium or High.");
        }

        if (!Enum.IsDefined(gemini.TurnCoverage))
        {
            failures.Add($"{Section}:TurnCoverage must be Default, OnlyActivity, AllInput or AudioActivityAndAllVideo.");
        }

        CheckModel(gemini, failures);

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private static bool IsKeepAliveTime(TimeSpan time) => time >= TimeSpan.Zero && time <= TimeSpan.FromMinutes(10);

    // What the configured model accepts; nothing to check when the backend or the model is already refused.
    private void CheckModel(GeminiOptions gemini, List<string> failures)
    {
        if (gemini.Backend is not (GeminiBackend.DeveloperApi or GeminiBackend.VertexAI) || (gemini.Model is not null && string.IsNullOrWhiteSpace(gemini.Model)))
        {
            return;
        }

        var model = GeminiModelCatalog.ResolveModel(gemini);
        var capabilities = GeminiModelCatalog.Find(gemini.Backend, model);
        if (capabilities is null)
        {
            if (WarnOnce($"unknown:{gemini.Backend}:{model}"))
            {
                if (GeminiModelCatalog.IsModelOfOtherBackend(gemini.Backend, model))
                {
                    Log.ModelOfOtherBackend(_logger, model, gemini.Backend, GeminiModelCatalog.DefaultModel(gemini.Backend));
                }
                else
                {
                    Log.UnknownModel(_logger, model, gemini.Backend);
                }
            }

            return;
        }

        failures.AddRange(GeminiModelCatalog.CheckOptions(capabilities, gemini, Section));
        failures.AddRange(GeminiModelCatalog.CheckTools(capabilities, _tools, Section));
        if (!string.IsNullOrWhiteSpace(gemini.Language) && !capabilities.HonoursLanguageCode && WarnOnce($"language:{capabilities.Id}"))
        {
            Log.LanguageIgnored(_logger, capabilities.Id);
        }
    }

    private bool WarnOnce(string key)
    {
        lock (_warned)
        {
            return _warned.Add(key);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 1010, Level = LogLevel.Warning, Message = "VoiceChat:Gemini:Model '{Model}' is not a {Backend} Live model this version knows; it is used as configured and the options are not checked against it.")]
        public static partial void UnknownModel(ILogger logger, string model, GeminiBackend backend);

        [LoggerMessage(EventId = 1011, Level = LogLevel.Warning, Message = "VoiceChat:Gemini:Model '{Model}' is a model id of the other backend, not of {Backend} (whose default is '{Default}'); it is used as configured and the options are not checked against it.")]
        public static partial void ModelOfOtherBackend(ILogger logger, string model, GeminiBackend backend, string @default);

        [LoggerMessage(EventId = 1012, Level = LogLevel.Warning, Message = "VoiceChat:Gemini:Language is sent but the native-audio model '{Model}' chooses the language itself.")]
        public static partial void LanguageIgnored(ILogger logger, string model);
    }
}
