using System.Net.WebSockets;
using System.Text;

namespace VoiceChat.Testing;

/// <summary>
/// A failure the emulator can inject, each closing the connection the way Google's service was seen to
/// (close code and reason text from the Live API reference, §5).
/// </summary>
public enum EmulatorFault
{
    /// <summary>1011 "Internal error occurred.".</summary>
    InternalError,

    /// <summary>1011 "The service is currently unavailable.".</summary>
    ServiceUnavailable,

    /// <summary>1011 "Deadline expired before operation could complete." (the close after <c>goAway</c>).</summary>
    DeadlineExceeded,

    /// <summary>1011 RESOURCE_EXHAUSTED: "Resource has been exhausted (e.g. check quota).".</summary>
    ResourceExhausted,

    /// <summary>1007 "Request contains an invalid argument.".</summary>
    InvalidArgument,

    /// <summary>1008 "models/X is not found for API version v1beta, or is not supported for bidiGenerateContent. …" (truncated to 123 bytes).</summary>
    ModelNotFound,

    /// <summary>1007 "User location is not supported for the API use.".</summary>
    LocationNotSupported,

    /// <summary>Refused credentials: 1007 "API key not valid. …" on the Developer API, 1008 "Request had invalid authentication credentials. …" on Vertex AI.</summary>
    AuthenticationFailed,

    /// <summary>1007 "API key expired. Please renew the API key.".</summary>
    ApiKeyExpired,

    /// <summary>1008 "BidiGenerateContent session not found".</summary>
    SessionNotFound,

    /// <summary>The TCP connection is aborted with no close frame (the client sees 1006).</summary>
    AbruptDrop,
}

/// <summary>Google's close codes and reason texts.</summary>
internal static class EmulatorCloseReasons
{
    /// <summary>A WebSocket close reason holds at most 123 bytes of UTF-8.</summary>
    public const int MaxReasonBytes = 123;

    public const string InvalidArgument = "Request contains an invalid argument.";
    public const string MediaChunksDeprecated = "realtime_input.media_chunks is deprecated. Use audio, video, or text instead.";
    public const string LocationNotSupported = "User location is not supported for the API use.";
    public const string InternalError = "Internal error occurred.";
    public const string ServiceUnavailable = "The service is currently unavailable.";
    public const string DeadlineExpired = "Deadline expired before operation could complete.";
    public const string ResourceExhausted = "Resource has been exhausted (e.g. check quota).";
    public const string ApiKeyInvalid = "API key not valid. Please pass a valid API key.";
    public const string ApiKeyExpired = "API key expired. Please renew the API key.";
    public const string BearerInvalid = "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.";
    public const string SessionNotFound = "BidiGenerateContent session not found";
    public const string MessageTooBig = "Request payload size exceeds the limit.";

    public static string ModelNotFound(string model, string apiVersion) =>
        $"{model} is not found for API version {apiVersion}, or is not supported for bidiGenerateContent. Call ListModels to see the list of available models and their supported methods.";

    public static string UnknownField(string name) =>
        $"Invalid JSON payload received. Unknown name \"{name}\": Cannot find field.";

    /// <summary>Cuts a reason to 123 UTF-8 bytes without splitting a character, as a real close frame must.</summary>
    public static string Truncate(string reason)
    {
        if (Encoding.UTF8.GetByteCount(reason) <= MaxReasonBytes)
        {
            return reason;
        }

        var length = reason.Length;
        while (length > 0 && Encoding.UTF8.GetByteCount(reason.AsSpan(0, length)) > MaxReasonBytes)
        {
            length--;
        }

        if (length > 0 && char.IsHighSurrogate(reason[length - 1]))
        {
            length--;
        }

        return reason[..length];
    }

    /// <summary>The close a fault produces; null status for <see cref="EmulatorFault.AbruptDrop"/>.</summary>
    public static (WebSocketCloseStatus? Status, string Reason) For(EmulatorFault fault, GeminiBackend backend, string model, string apiVersion) => fault switch
    {
        EmulatorFault.InternalError => (WebSocketCloseStatus.InternalServerError, InternalError),
        EmulatorFault.ServiceUnavailable => (WebSocketCloseStatus.InternalServerError, ServiceUnavailable),
        EmulatorFault.DeadlineExceeded => (WebSocketCloseStatus.InternalServerError, DeadlineExpired),
        EmulatorFault.ResourceExhausted => (WebSocketCloseStatus.InternalServerError, ResourceExhausted),
        EmulatorFault.InvalidArgument => (WebSocketCloseStatus.InvalidPayloadData, InvalidArgument),
        EmulatorFault.ModelNotFound => (WebSocketCloseStatus.PolicyViolation, ModelNotFound(model, apiVersion)),
        EmulatorFault.LocationNotSupported => (WebSocketCloseStatus.InvalidPayloadData, LocationNotSupported),
        EmulatorFault.AuthenticationFailed => backend == GeminiBackend.VertexAI
            ? (WebSocketCloseStatus.PolicyViolation, BearerInvalid)
            : (WebSocketCloseStatus.InvalidPayloadData, ApiKeyInvalid),
        EmulatorFault.ApiKeyExpired => (WebSocketCloseStatus.InvalidPayloadData, ApiKeyExpired),
        EmulatorFault.SessionNotFound => (WebSocketCloseStatus.PolicyViolation, SessionNotFound),
        _ => (null, string.Empty),
    };
}
