using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Serialization;

namespace VoiceChat.Sessions.Resume;

/// <summary>
/// What another instance needs to take a conversation over: who it belongs to, its settled setup,
/// the model's latest resumption handle, how far each side's messages got, and when the conversation
/// began (wall-clock time, so that its maximum duration carries over to another instance; null in
/// state written before it was kept, which then counts from the takeover).
/// </summary>
internal sealed record ResumeState(
    string SessionId,
    string UserId,
    bool UserVerified,
    string? ResumptionHandle,
    string? SystemInstruction,
    string? Voice,
    string? Language,
    int InputSampleRate,
    long ClientReceived,
    long ServerSent,
    Dictionary<string, string> Metadata,
    DateTimeOffset? StartedAt,
    bool Video = false);

/// <summary>
/// Resume state shared between instances (Redis when <c>VoiceChat:Resume:Redis</c> is set). Keys
/// are hashes of resume tokens, never the tokens: what the store holds cannot be replayed as a token.
/// </summary>
internal interface IResumeStore
{
    /// <summary>Stores (or replaces) a conversation's state under its current token.</summary>
    ValueTask SaveAsync(string tokenKey, ResumeState state, TimeSpan lifetime, CancellationToken cancellationToken);

    /// <summary>Reads and deletes in one step, so a token resumes at most once across all instances.</summary>
    ValueTask<ResumeState?> TakeAsync(string tokenKey, CancellationToken cancellationToken);

    /// <summary>Forgets a token (the conversation ended, or it was resumed here).</summary>
    ValueTask RemoveAsync(string tokenKey, CancellationToken cancellationToken);
}

/// <summary>Resume tokens: random, single-use, stored only as hashes.</summary>
internal static class ResumeTokens
{
    public static string Create() => Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(24));

    public static string Key(string token) => Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(token)));
}

[JsonSerializable(typeof(ResumeState))]
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
internal sealed partial class ResumeStateJsonContext : JsonSerializerContext;
