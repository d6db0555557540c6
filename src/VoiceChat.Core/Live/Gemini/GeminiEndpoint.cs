namespace VoiceChat.Live.Gemini;

/// <summary>Where a Gemini Live conversation is opened and what the model is called there.</summary>
internal static class GeminiEndpoint
{
    public const string DefaultVertexLocation = "us-central1";

    private const string DeveloperApiHost = "generativelanguage.googleapis.com";

    /// <summary>The project for Vertex AI: the option, else <c>GOOGLE_CLOUD_PROJECT</c>.</summary>
    public static string? ResolveProject(GeminiOptions options) =>
        NullIfEmpty(options.Project) ?? NullIfEmpty(Environment.GetEnvironmentVariable("GOOGLE_CLOUD_PROJECT"));

    /// <summary>The location for Vertex AI: the option, else <c>GOOGLE_CLOUD_LOCATION</c>, else <c>us-central1</c>.</summary>
    public static string ResolveLocation(GeminiOptions options) =>
        NullIfEmpty(options.Location) ?? NullIfEmpty(Environment.GetEnvironmentVariable("GOOGLE_CLOUD_LOCATION")) ?? DefaultVertexLocation;

    /// <summary>The API version in the endpoint path: the option, else <c>v1beta1</c> (Vertex AI) or <c>v1beta</c> (Developer API).</summary>
    public static string ResolveApiVersion(GeminiOptions options) => ResolveApiVersion(options.Backend, options.ApiVersion);

    /// <summary>The WebSocket URL of the BidiGenerateContent service.</summary>
    public static Uri BuildUri(GeminiBackend backend, Uri? baseUrl, string? apiVersion, string location)
    {
        var path = backend == GeminiBackend.VertexAI
            ? $"/ws/google.cloud.aiplatform.{ResolveApiVersion(backend, apiVersion)}.LlmBidiService/BidiGenerateContent"
            : $"/ws/google.ai.generativelanguage.{ResolveApiVersion(backend, apiVersion)}.GenerativeService.BidiGenerateContent";

        if (baseUrl is null)
        {
            var host = backend == GeminiBackend.VertexAI ? VertexHost(location) : DeveloperApiHost;
            return new Uri($"wss://{host}{path}");
        }

        var scheme = baseUrl.Scheme switch
        {
            "http" or "ws" => "ws",
            "https" or "wss" => "wss",
            _ => throw new ArgumentException($"The Gemini base URL must use http, https, ws or wss, not '{baseUrl.Scheme}'.", nameof(baseUrl)),
        };

        // A base path is kept (a private endpoint or proxy may live under one); exactly one slash joins it to the service path.
        var builder = new UriBuilder(baseUrl)
        {
            Scheme = scheme,
            Port = baseUrl.IsDefaultPort ? -1 : baseUrl.Port,
            Path = baseUrl.AbsolutePath.TrimEnd('/') + path,
            Query = string.Empty,
            Fragment = string.Empty,
        };
        return builder.Uri;
    }

    /// <summary>The host of Vertex AI for a location (<c>global</c> has no region prefix).</summary>
    public static string VertexHost(string location) => location switch
    {
        "global" => "aiplatform.googleapis.com",
        "us" or "eu" => $"aiplatform.{location}.rep.googleapis.com",
        _ => $"{location}-aiplatform.googleapis.com",
    };

    /// <summary>The model's resource name in <c>setup</c>.</summary>
    public static string ModelName(GeminiBackend backend, string model, string? project, string location)
    {
        model = model.Trim();
        if (backend == GeminiBackend.DeveloperApi)
        {
            return model.StartsWith("models/", StringComparison.Ordinal) || model.StartsWith("tunedModels/", StringComparison.Ordinal)
                ? model
                : "models/" + model;
        }

        if (model.StartsWith("projects/", StringComparison.Ordinal))
        {
            return model;
        }

        if (model.StartsWith("models/", StringComparison.Ordinal))
        {
            model = model["models/".Length..];
        }

        var publisherPath = model.StartsWith("publishers/", StringComparison.Ordinal) ? model : "publishers/google/models/" + model;
        return $"projects/{project}/locations/{location}/{publisherPath}";
    }

    /// <summary>The bare model id (what the model family is judged by).</summary>
    public static string ModelId(string model)
    {
        var slash = model.LastIndexOf('/');
        return slash >= 0 ? model[(slash + 1)..] : model;
    }

    private static string ResolveApiVersion(GeminiBackend backend, string? apiVersion) =>
        NullIfEmpty(apiVersion) ?? (backend == GeminiBackend.VertexAI ? "v1beta1" : "v1beta");

    private static string? NullIfEmpty(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();
}

/// <summary>Differences between model generations that change the wire format (reference §2, §8.9).</summary>
internal enum GeminiModelFamily
{
    /// <summary>Gemini 2.x: typed text through <c>clientContent</c>, <c>thinkingBudget</c>, affective dialog and proactivity allowed.</summary>
    Gemini2,

    /// <summary>Gemini 3.x: typed text through <c>realtimeInput.text</c>, <c>thinkingLevel</c>, no affective dialog or proactivity.</summary>
    Gemini3,
}

internal static class GeminiModelFamilies
{
    public static GeminiModelFamily Of(string model)
    {
        var id = GeminiEndpoint.ModelId(model);
        return id.StartsWith("gemini-3", StringComparison.OrdinalIgnoreCase) || id.StartsWith("gemini-live-3", StringComparison.OrdinalIgnoreCase)
            ? GeminiModelFamily.Gemini3
            : GeminiModelFamily.Gemini2;
    }
}
