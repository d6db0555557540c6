using System.Net;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using VoiceChat.Live.WebSockets;
using VoiceChat.Tools;

namespace VoiceChat.Live.Gemini;

/// <summary>Opens Gemini Live connections: URL, credentials, <c>setup</c> and the handshake.</summary>
internal sealed partial class GeminiLiveConnector : IResumableLiveConnector, IDisposable
{
    // One HTTP handler for every connection's upgrade request: one connection pool, the proxy from the
    // environment (HTTPS_PROXY), TLS as the platform does it. Each upgraded connection leaves the pool.
    private readonly HttpMessageInvoker _http;
    private readonly IOptions<VoiceChatOptions> _options;
    private readonly IAccessTokenSource _tokens;
    private readonly IReadOnlyList<ToolRegistration> _tools;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private long _connectionCount;

    public GeminiLiveConnector(IOptions<VoiceChatOptions> options, IAccessTokenSource tokens, ToolRegistry tools, TimeProvider time, ILogger<GeminiLiveConnector> logger)
    {
        _http = new HttpMessageInvoker(new SocketsHttpHandler { UseCookies = false, AllowAutoRedirect = false }, disposeHandler: true);
        _options = options;
        _tokens = tokens;
        _tools = tools.Tools;
        _time = time;
        _logger = logger;
    }

    public async ValueTask<ILiveConnection> ConnectAsync(LiveSessionSetup setup, string? resumptionHandle, CancellationToken cancellationToken)
    {
        var options = _options.Value.Gemini;
        var location = GeminiEndpoint.ResolveLocation(options);
        var project = GeminiEndpoint.ResolveProject(options);
        var uri = GeminiEndpoint.BuildUri(options.Backend, options.BaseUrl, options.ApiVersion, location);
        var model = GeminiEndpoint.ModelName(options.Backend, GeminiModelCatalog.ResolveModel(options), project, location);
        var connectionId = $"{setup.Request.SessionId}/{Interlocked.Increment(ref _connectionCount)}";

        // The session's voice and language (the client's or a session hook's) are checked before anything is sent:
        // the service would close with 1007 and no word on which value it refused.
        if (GeminiModelCatalog.CheckSession(GeminiModelCatalog.Find(options.Backend, model), setup) is { } refusal)
        {
            Log.SessionSetupRefused(_logger, connectionId, refusal);
            throw new LiveConnectionException(new LiveError(VoiceChatErrorCodes.UpstreamInvalidArgument, refusal, Fatal: true), refusal);
        }

        var started = _time.GetTimestamp();

        UpstreamWebSocket? socket = null;
        try
        {
            var headers = new List<KeyValuePair<string, string>>(1);
            if (options.Backend == GeminiBackend.VertexAI)
            {
                // A fresh token for every connection: a resumed conversation may outlive the previous one.
                string token;
                try
                {
                    token = await _tokens.GetAccessTokenAsync(cancellationToken).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
                {
                    Log.CredentialsFailed(_logger, connectionId, ex);
                    throw new LiveConnectionException(GeminiCloseClassifier.CredentialsFailed, "access token: " + ex.GetType().Name, ex);
                }

                headers.Add(new("Authorization", "Bearer " + token));
            }
            else if (!string.IsNullOrEmpty(options.ApiKey))
            {
                headers.Add(new("x-goog-api-key", options.ApiKey));
            }

            Log.Connecting(_logger, connectionId, uri, model, resumptionHandle is not null);
            using (var timeout = new CancellationTokenSource(options.SetupTimeout, _time))
            using (var linked = CancellationTokenSource.CreateLinkedTokenSource(timeout.Token, cancellationToken))
            {
                try
                {
                    var framing = new UpstreamWebSocketOptions
                    {
                        KeepAliveInterval = options.KeepAliveInterval,
                        KeepAliveTimeout = options.KeepAliveTimeout,
                        MaxMessageBytes = GeminiLiveConnection.MaxMessageBytes,
                    };
                    socket = await WebSocketUpgrade.ConnectAsync(uri, _http, headers, framing, _time, linked.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
                {
                    throw new LiveConnectionException(GeminiCloseClassifier.SetupTimedOut, "connect timed out");
                }
                catch (WebSocketUpgradeException ex) when (ex.StatusCode != HttpStatusCode.SwitchingProtocols)
                {
                    var error = GeminiCloseClassifier.ForHttpStatus(ex.StatusCode);
                    var detail = $"upgrade refused: HTTP {(int)ex.StatusCode}";
                    Log.ConnectFailed(_logger, connectionId, detail, error.Code);
                    throw new LiveConnectionException(error, detail, ex);
                }
                catch (Exception ex) when (ex is HttpRequestException or IOException)
                {
                    var error = GeminiCloseClassifier.ConnectFailed;
                    var detail = "connect failed: " + ex.Message;
                    Log.ConnectFailed(_logger, connectionId, detail, error.Code);
                    throw new LiveConnectionException(error, detail, ex);
                }
            }

            var setupMessage = GeminiSetupBuilder.Build(options, setup, model, _tools, resumptionHandle);
            var remaining = options.SetupTimeout - _time.GetElapsedTime(started);
            var connection = await GeminiLiveConnection.StartAsync(
                socket,
                setupMessage,
                GeminiModelFamilies.Of(model),
                setup.Request.InputSampleRate,
                remaining > TimeSpan.Zero ? remaining : TimeSpan.FromMilliseconds(1),
                _time,
                _logger,
                connectionId,
                cancellationToken).ConfigureAwait(false);
            var elapsedMs = _time.GetElapsedTime(started).TotalMilliseconds;
            Log.Connected(_logger, connectionId, elapsedMs);
            return connection;
        }
        catch (LiveConnectionException ex)
        {
            Log.SetupFailed(_logger, connectionId, ex.Error.Code, ex.UpstreamDetail ?? string.Empty);
            socket?.Dispose();
            throw;
        }
        catch
        {
            socket?.Dispose();
            throw;
        }
    }

    public void Dispose() => _http.Dispose();

    private static partial class Log
    {
        [LoggerMessage(EventId = 1001, Level = LogLevel.Debug, Message = "Gemini Live connection {ConnectionId}: connecting to {Uri} (model {Model}, resuming: {Resuming}).")]
        public static partial void Connecting(ILogger logger, string connectionId, Uri uri, string model, bool resuming);

        [LoggerMessage(EventId = 1002, Level = LogLevel.Information, Message = "Gemini Live connection {ConnectionId}: connected and set up in {ElapsedMs:F0} ms.")]
        public static partial void Connected(ILogger logger, string connectionId, double elapsedMs);

        [LoggerMessage(EventId = 1003, Level = LogLevel.Warning, Message = "Gemini Live connection {ConnectionId}: {Detail} ({ErrorCode}).")]
        public static partial void ConnectFailed(ILogger logger, string connectionId, string detail, string errorCode);

        [LoggerMessage(EventId = 1004, Level = LogLevel.Warning, Message = "Gemini Live connection {ConnectionId}: setup failed with {ErrorCode}: {UpstreamDetail}")]
        public static partial void SetupFailed(ILogger logger, string connectionId, string errorCode, string upstreamDetail);

        [LoggerMessage(EventId = 1006, Level = LogLevel.Warning, Message = "Gemini Live connection {ConnectionId}: the session's setup is not sent: {Refusal}")]
        public static partial void SessionSetupRefused(ILogger logger, string connectionId, string refusal);

        [LoggerMessage(EventId = 1005, Level = LogLevel.Error, Message = "Gemini Live connection {ConnectionId}: no access token for Vertex AI.")]
        public static partial void CredentialsFailed(ILogger logger, string connectionId, Exception exception);
    }
}
