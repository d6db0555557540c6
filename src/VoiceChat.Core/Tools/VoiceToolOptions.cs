namespace VoiceChat;

/// <summary>
/// How the model runs one tool, for <c>AddTool(tool, options)</c>. By default a tool is blocking: the model
/// waits for its result before it goes on.
/// </summary>
public sealed class VoiceToolOptions
{
    /// <summary>
    /// Declares the tool <c>NON_BLOCKING</c>: the model keeps talking (and listening) while it runs, and is
    /// given the result when it is ready, as <see cref="Scheduling"/> says. Only some models support it;
    /// start-up validation refuses it for a model known not to (docs/configuration.md lists them). Default false.
    /// </summary>
    public bool NonBlocking { get; set; }

    /// <summary>
    /// What the model does with a non-blocking tool's result (sent as the response's <c>scheduling</c>).
    /// Ignored for a blocking tool. Default <see cref="VoiceToolScheduling.WhenIdle"/>, the service's own default.
    /// </summary>
    public VoiceToolScheduling Scheduling { get; set; } = VoiceToolScheduling.WhenIdle;
}

/// <summary>When the model acts on a non-blocking tool's result.</summary>
public enum VoiceToolScheduling
{
    /// <summary><c>WHEN_IDLE</c>: the model speaks about the result once it has finished what it is saying.</summary>
    WhenIdle,

    /// <summary><c>INTERRUPT</c>: the model stops what it is saying and speaks about the result now.</summary>
    Interrupt,

    /// <summary><c>SILENT</c>: the model takes the result into its context without speaking; a later answer may use it.</summary>
    Silent,
}
