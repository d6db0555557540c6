using System.Net;

namespace VoiceChat.Live.Gemini;

/// <summary>
/// Maps how the Gemini Live service ended or refused a connection to an error for the client.
/// The service's own words only choose the code; they never reach the client.
/// </summary>
internal static class GeminiCloseClassifier
{
    public const string UnavailableMessage = "The model service cannot be reached.";
    public const string NotResumedMessage = "The connection to the model service was lost and the conversation could not be resumed.";
    public const string AuthFailedMessage = "The model service refused the server's credentials.";
    public const string ModelNotFoundMessage = "The configured model does not exist or does not support live sessions.";
    public const string InvalidArgumentMessage = "The model service refused the session's configuration or a message.";
    public const string LocationMessage = "The model service is not available in the server's region.";
    public const string QuotaMessage = "The server's quota at the model service is exhausted; try again later.";
    public const string InternalMessage = "The model service failed and the conversation could not be resumed.";
    public const string TimeoutMessage = "The model service did not answer in time.";

    /// <summary>
    /// The error for a close the service initiated. <paramref name="closeStatus"/> is null when the
    /// connection dropped without a close frame (1006). Returns null for a normal closure (1000):
    /// the service ended the conversation.
    /// </summary>
    public static LiveError? ForClose(int? closeStatus, string? reason)
    {
        reason ??= string.Empty;
        switch (closeStatus)
        {
            case 1000:
                return null;
            case null or 1006:
                return Retriable(VoiceChatErrorCodes.UpstreamUnavailable, NotResumedMessage);
            case 1001 or 1012 or 1013:
                // Going away, restarting, try again later: the service itself asks for a new connection.
                return Retriable(VoiceChatErrorCodes.UpstreamUnavailable, NotResumedMessage);
            case 1007:
                if (Has(reason, "location is not supported"))
                {
                    return Fatal(VoiceChatErrorCodes.LocationNotSupported, LocationMessage);
                }

                return IsAuthText(reason)
                    ? Fatal(VoiceChatErrorCodes.UpstreamAuthFailed, AuthFailedMessage)
                    : Fatal(VoiceChatErrorCodes.UpstreamInvalidArgument, InvalidArgumentMessage);
            case 1008:
                if (IsAuthText(reason))
                {
                    return Fatal(VoiceChatErrorCodes.UpstreamAuthFailed, AuthFailedMessage);
                }

                if (Has(reason, "session not found"))
                {
                    // The resumption handle is no longer known: the conversation is gone.
                    return Fatal(VoiceChatErrorCodes.UpstreamUnavailable, NotResumedMessage);
                }

                if (Has(reason, "Requested entity was not found") || Has(reason, "operation was aborted"))
                {
                    // Seen at random mid-conversation; a resume usually repairs it.
                    return Retriable(VoiceChatErrorCodes.UpstreamInternal, InternalMessage);
                }

                if (Has(reason, "Publisher Model") || Has(reason, "not found") || Has(reason, "not supported for bidiGenerateContent"))
                {
                    return Fatal(VoiceChatErrorCodes.ModelNotFound, ModelNotFoundMessage);
                }

                return Fatal(VoiceChatErrorCodes.UpstreamInvalidArgument, InvalidArgumentMessage);
            case 1011:
                if (Has(reason, "RESOURCE_EXHAUSTED") || Has(reason, "quota") || Has(reason, "rate limit") || Has(reason, "Too Many Requests"))
                {
                    return Fatal(VoiceChatErrorCodes.QuotaExhausted, QuotaMessage);
                }

                if (Has(reason, "used too many times"))
                {
                    return Fatal(VoiceChatErrorCodes.UpstreamAuthFailed, AuthFailedMessage);
                }

                if (Has(reason, "DEADLINE_EXCEEDED") || Has(reason, "Deadline expired"))
                {
                    // What the service sends when a connection reaches its lifetime: resumable.
                    return Retriable(VoiceChatErrorCodes.UpstreamTimeout, TimeoutMessage);
                }

                return Retriable(VoiceChatErrorCodes.UpstreamInternal, InternalMessage);
            default:
                return Fatal(VoiceChatErrorCodes.UpstreamInternal, InternalMessage);
        }
    }

    /// <summary>The error for a refused WebSocket upgrade.</summary>
    public static LiveError ForHttpStatus(HttpStatusCode status) => (int)status switch
    {
        401 or 403 => Fatal(VoiceChatErrorCodes.UpstreamAuthFailed, AuthFailedMessage),
        429 => Fatal(VoiceChatErrorCodes.QuotaExhausted, QuotaMessage),
        408 or 504 => Retriable(VoiceChatErrorCodes.UpstreamTimeout, TimeoutMessage),
        _ => Retriable(VoiceChatErrorCodes.UpstreamUnavailable, UnavailableMessage),
    };

    /// <summary>The service could not be reached at all.</summary>
    public static LiveError ConnectFailed { get; } = Retriable(VoiceChatErrorCodes.UpstreamUnavailable, UnavailableMessage);

    /// <summary>No <c>setupComplete</c> within the setup timeout.</summary>
    public static LiveError SetupTimedOut { get; } = Retriable(VoiceChatErrorCodes.UpstreamTimeout, TimeoutMessage);

    /// <summary>The credentials could not be obtained (the token source failed).</summary>
    public static LiveError CredentialsFailed { get; } = Fatal(VoiceChatErrorCodes.UpstreamAuthFailed, AuthFailedMessage);

    /// <summary>
    /// The service broke the WebSocket protocol (a malformed frame, text that is not UTF-8, a close code
    /// that is never sent, a message over the size limit): the service failed; a new connection may not.
    /// </summary>
    public static LiveError ProtocolViolation { get; } = Retriable(VoiceChatErrorCodes.UpstreamInternal, InternalMessage);

    /// <summary>A lost conversation that cannot be resumed because the service never issued a resumption handle.</summary>
    public static LiveError NotResumable { get; } = Fatal(VoiceChatErrorCodes.UpstreamUnavailable, NotResumedMessage);

    private static LiveError Fatal(string code, string message) => new(code, message, Fatal: true);

    private static LiveError Retriable(string code, string message) => new(code, message, Fatal: true) { Retriable = true };

    private static bool IsAuthText(string reason) =>
        Has(reason, "API key") || Has(reason, "UNAUTHENTICATED") || Has(reason, "PERMISSION_DENIED") || Has(reason, "permission denied")
        || Has(reason, "authentication") || Has(reason, "credential") || Has(reason, "access token");

    private static bool Has(string reason, string text) => reason.Contains(text, StringComparison.OrdinalIgnoreCase);
}
