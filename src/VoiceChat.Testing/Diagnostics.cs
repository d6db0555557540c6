using Microsoft.Extensions.Logging;

namespace VoiceChat.Testing;

/// <summary>The emulator's log messages.</summary>
internal static partial class EmulatorLog
{
    [LoggerMessage(1, LogLevel.Information, "Gemini Live API emulator listening on {BaseUrl}")]
    public static partial void Listening(ILogger logger, Uri baseUrl);

    [LoggerMessage(2, LogLevel.Debug, "Emulator connection {ConnectionId} accepted on {Path} ({Backend})")]
    public static partial void Accepted(ILogger logger, int connectionId, string path, GeminiBackend backend);

    [LoggerMessage(3, LogLevel.Debug, "Emulator connection {ConnectionId} ended: close {CloseStatus} {CloseDescription}, dropped {Dropped}")]
    public static partial void Ended(ILogger logger, int connectionId, System.Net.WebSockets.WebSocketCloseStatus? closeStatus, string? closeDescription, bool dropped);

    [LoggerMessage(4, LogLevel.Warning, "Emulator connection {ConnectionId} failed")]
    public static partial void Failed(ILogger logger, int connectionId, Exception exception);

    [LoggerMessage(5, LogLevel.Debug, "Emulator connection {ConnectionId} refused: {Reason}")]
    public static partial void Refused(ILogger logger, int connectionId, string reason);

    [LoggerMessage(6, LogLevel.Warning, "No Google credentials are configured (VoiceChat:Gemini:ApiKey, or a project for Vertex AI): answers come from the built-in Gemini Live emulator at {BaseUrl}.")]
    public static partial void NoCredentials(ILogger logger, Uri baseUrl);
}
