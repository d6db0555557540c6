namespace VoiceChat.Testing.Sessions.Setup;

/// <summary>What a connection's <c>setup</c> message asked for, as the emulator accepted it; fixed for the connection.</summary>
internal sealed class SessionSetup
{
    /// <summary>The model's resource name as sent (<c>models/…</c> or <c>…/publishers/google/models/…</c>).</summary>
    public required string Model { get; init; }

    /// <summary>The model's id, the last segment of <see cref="Model"/>.</summary>
    public required string ModelId { get; init; }

    /// <summary>Gemini 3.x: stricter about <c>clientContent</c> and <c>mediaChunks</c>, and withholds <c>turnComplete</c> after a tool call.</summary>
    public bool IsGemini3 { get; init; }

    /// <summary>The response modality is TEXT (model text parts) rather than AUDIO.</summary>
    public bool TextModality { get; init; }

    public bool InputTranscription { get; init; }

    public bool OutputTranscription { get; init; }

    /// <summary>Automatic activity detection is disabled: the client marks turns with <c>activityStart</c>/<c>activityEnd</c>.</summary>
    public bool ManualActivity { get; init; }

    /// <summary><c>automaticActivityDetection.silenceDurationMs</c>, when set.</summary>
    public TimeSpan? SilenceDuration { get; init; }

    /// <summary><c>historyConfig.initialHistoryInClientContent</c>: the first <c>clientContent</c> seeds history.</summary>
    public bool HistorySeed { get; init; }

    public IReadOnlyList<EmulatorFunctionDeclaration> Functions { get; init; } = [];

    /// <summary><c>sessionResumption</c> is present: the emulator sends resumption updates.</summary>
    public bool Resumption { get; init; }

    /// <summary>The handle to resume from, or null for a new conversation.</summary>
    public string? ResumeHandle { get; init; }

    /// <summary>The emulator never answers with <c>setupComplete</c> (an option, or a setup Gemini 3.x is known to hang on).</summary>
    public bool SuppressSetupComplete { get; init; }
}
