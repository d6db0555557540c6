using Microsoft.Extensions.Logging;

namespace VoiceChat.AspNetCore.Sockets;

internal static partial class SocketLoopLog
{
    [LoggerMessage(1, LogLevel.Error, "A socket loop callback failed")]
    public static partial void LoopFault(ILogger logger, Exception exception);
}
