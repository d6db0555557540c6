using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using VoiceChat.Diagnostics;
using VoiceChat.Tools;

namespace VoiceChat.Live;

/// <summary>A session hook added with <c>ConfigureSession</c>.</summary>
internal sealed record SessionSetupHook(Func<VoiceSessionSetupContext, CancellationToken, ValueTask> Configure);

/// <summary>
/// Opens a session's upstream conversation: runs the session hooks once, connects, and wraps the
/// connection for resumption and then for tools (tools outermost, so a call survives a reconnection).
/// </summary>
internal sealed partial class LiveConnectionFactory : ILiveConnectionFactory
{
    private readonly IResumableLiveConnector _connector;
    private readonly IOptions<VoiceChatOptions> _options;
    private readonly IEnumerable<SessionSetupHook> _hooks;
    private readonly ToolRegistry _tools;
    private readonly IServiceScopeFactory _scopes;
    private readonly TimeProvider _time;
    private readonly ILoggerFactory _loggers;
    private readonly ILogger _logger;

    public LiveConnectionFactory(
        IResumableLiveConnector connector,
        IOptions<VoiceChatOptions> options,
        IEnumerable<SessionSetupHook> hooks,
        ToolRegistry tools,
        IServiceScopeFactory scopes,
        TimeProvider time,
        ILoggerFactory loggers)
    {
        _connector = connector;
        _options = options;
        _hooks = hooks;
        _tools = tools;
        _scopes = scopes;
        _time = time;
        _loggers = loggers;
        _logger = loggers.CreateLogger<LiveConnectionFactory>();
    }

    public async ValueTask<LiveSessionConnection> ConnectAsync(LiveSessionRequest request, CancellationToken cancellationToken)
    {
        var setup = await ResolveSetupAsync(request, _options.Value.Gemini, cancellationToken).ConfigureAwait(false);
        return await OpenAsync(setup, resumptionHandle: null, cancellationToken).ConfigureAwait(false);
    }

    public ValueTask<LiveSessionConnection> ResumeAsync(LiveSessionSetup setup, string resumptionHandle, CancellationToken cancellationToken) =>
        OpenAsync(setup, resumptionHandle, cancellationToken);

    private async ValueTask<LiveSessionConnection> OpenAsync(LiveSessionSetup setup, string? resumptionHandle, CancellationToken cancellationToken)
    {
        var gemini = _options.Value.Gemini;
        var first = await ConnectAsync(setup, resumptionHandle, cancellationToken).ConfigureAwait(false);
        var resumable = new ResumableLiveConnection(
            first,
            _connector,
            setup,
            ResumptionSettings.From(gemini, setup.Request.InputSampleRate),
            _time,
            _loggers.CreateLogger<ResumableLiveConnection>(),
            resumptionHandle);
        if (_tools.Tools.Count == 0)
        {
            // Nothing to run: the model is not told of any function, so it calls none. One hop less per event.
            return new LiveSessionConnection(resumable, setup);
        }

        return new LiveSessionConnection(
            new ToolInvokingLiveConnection(
                resumable,
                setup.Request.SessionId,
                _tools,
                _scopes,
                gemini.ToolTimeout,
                _time,
                _loggers.CreateLogger<ToolInvokingLiveConnection>()),
            setup);
    }

    /// <summary>The model connection and its setup, in a span under the session's.</summary>
    private async ValueTask<ILiveConnection> ConnectAsync(LiveSessionSetup setup, string? resumptionHandle, CancellationToken cancellationToken)
    {
        using var span = VoiceChatTelemetry.StartModelSpan(resumptionHandle is null ? "connect" : "resume", setup.Request.SessionId);
        try
        {
            return await _connector.ConnectAsync(setup, resumptionHandle, cancellationToken).ConfigureAwait(false);
        }
        catch (LiveConnectionException ex)
        {
            VoiceChatTelemetry.Finish(span, ex.Error.Code, ex.Message);
            throw;
        }
    }

    private async ValueTask<LiveSessionSetup> ResolveSetupAsync(LiveSessionRequest request, GeminiOptions gemini, CancellationToken cancellationToken)
    {
        var voice = string.IsNullOrWhiteSpace(request.Voice) ? gemini.Voice : request.Voice;
        var language = string.IsNullOrWhiteSpace(request.Language) ? gemini.Language : request.Language;
        var hooks = _hooks as IReadOnlyCollection<SessionSetupHook> ?? _hooks.ToArray();
        if (hooks.Count == 0)
        {
            return new LiveSessionSetup(request, gemini.SystemInstruction, voice, language);
        }

        var scope = _scopes.CreateAsyncScope();
        await using (scope.ConfigureAwait(false))
        {
            var context = new VoiceSessionSetupContext(request.SessionId, request.UserId, request.IsUserVerified, request.User, request.Metadata, scope.ServiceProvider)
            {
                SystemInstruction = gemini.SystemInstruction,
                Voice = voice,
                Language = language,
            };
            try
            {
                foreach (var hook in hooks)
                {
                    await hook.Configure(context, cancellationToken).ConfigureAwait(false);
                }
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                Log.SessionHookFailed(_logger, request.SessionId, ex);
                throw new LiveConnectionException(
                    new LiveError(VoiceChatErrorCodes.InternalError, "The session could not be configured.", Fatal: true),
                    upstreamDetail: null,
                    ex);
            }

            return new LiveSessionSetup(request, context.SystemInstruction, context.Voice, context.Language);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 1401, Level = LogLevel.Error, Message = "Session {SessionId}: a session hook (ConfigureSession) failed.")]
        public static partial void SessionHookFailed(ILogger logger, string sessionId, Exception exception);
    }
}
