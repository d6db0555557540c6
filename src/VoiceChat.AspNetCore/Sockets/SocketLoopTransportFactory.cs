using System.Net;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using VoiceChat.Sockets;

namespace VoiceChat.AspNetCore.Sockets;

/// <summary>Kestrel's transport for IP endpoints on the VoiceChat socket loops; other endpoints keep Kestrel's own.</summary>
internal sealed partial class SocketLoopTransportFactory(SocketLoopGroup loops, IOptions<VoiceChatSocketLoopOptions> options, ILogger<SocketLoopTransportFactory> logger)
    : IConnectionListenerFactory, IConnectionListenerFactorySelector
{
    public bool CanBind(EndPoint endpoint) => endpoint is IPEndPoint;

    public ValueTask<IConnectionListener> BindAsync(EndPoint endpoint, CancellationToken cancellationToken = default)
    {
        if (endpoint is not IPEndPoint ip)
        {
            throw new NotSupportedException($"The VoiceChat socket loop listens on IP endpoints only, not on {endpoint.GetType().Name}.");
        }

        var listener = new SocketLoopConnectionListener(loops, ip, options.Value.Backlog, ex => Log.AcceptFailed(logger, ex));
        Log.Listening(logger, listener.EndPoint, loops.Settings.LoopCount);
        return ValueTask.FromResult<IConnectionListener>(listener);
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Debug, "Listening on {EndPoint} with {LoopCount} socket loop(s)")]
        public static partial void Listening(ILogger logger, EndPoint endPoint, int loopCount);

        [LoggerMessage(2, LogLevel.Warning, "Accepting a connection failed")]
        public static partial void AcceptFailed(ILogger logger, Exception exception);
    }
}
