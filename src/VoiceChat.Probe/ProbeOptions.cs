namespace VoiceChat.Probe;

/// <summary>What one probe run does: where it connects, with which credentials, and what it says.</summary>
internal sealed class ProbeOptions
{
    /// <summary>The environment variable the bearer token is read from when no --token is given (it stays out of shell history).</summary>
    public const string TokenVariable = "VOICECHAT_PROBE_TOKEN";

    /// <summary>The user id sent without a token; with one, the server takes the user from the token.</summary>
    public const string DefaultUserId = "voicechat-probe";

    /// <summary>The voice endpoint, ws:// or wss://.</summary>
    public required Uri Url { get; init; }

    /// <summary>Sent as <c>Authorization: Bearer …</c> on the upgrade request.</summary>
    public string? Token { get; init; }

    /// <summary>Extra request headers on the upgrade request (for example a platform's own authorization header).</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Headers { get; init; } = [];

    /// <summary>The Origin header, for servers that check it.</summary>
    public string? Origin { get; init; }

    /// <summary><c>user_id</c> in <c>start_session</c>; <see langword="null"/> leaves it out.</summary>
    public string? UserId { get; init; }

    /// <summary>What the probe says: PCM16 mono at <see cref="Utterance.SampleRate"/>, or a typed turn.</summary>
    public required Utterance Utterance { get; init; }

    /// <summary>A bound on the whole run, connection included.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(30);
}
