using System.Collections.Concurrent;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Primitives;
using VoiceChat.Testing.Sessions;
using VoiceChat.Testing.Sessions.Resumption;
using VoiceChat.Testing.Wire;

namespace VoiceChat.Testing;

/// <summary>
/// A local server that speaks the Gemini Live API wire protocol (BidiGenerateContent over WebSocket)
/// on Kestrel: the Developer API and Vertex AI paths, setup, an energy-based voice activity detector
/// that answers each utterance with the user's own audio at 24 kHz, transcripts, scripted tool calls,
/// session resumption, <c>goAway</c> and Google's close codes. Point a client at <see cref="BaseUrl"/>.
/// </summary>
/// <example>
/// <code>
/// await using var emulator = await LiveApiEmulator.StartAsync(new LiveApiEmulatorOptions { GoAwayAfter = TimeSpan.FromSeconds(2) });
/// emulator.ScriptToolCall("get_weather", """{"city":"Paris"}""");
/// // connect to emulator.BaseUrl + "/ws/google.ai.generativelanguage.v1beta.GenerativeService.BidiGenerateContent?key=any"
/// </code>
/// </example>
public sealed class LiveApiEmulator : IAsyncDisposable, IDisposable
{
    private const string DeveloperPrefix = "/ws/google.ai.generativelanguage.";
    private const string DeveloperSuffix = ".GenerativeService.BidiGenerateContent";
    private const string VertexPrefix = "/ws/google.cloud.aiplatform.";
    private const string VertexSuffix = ".LlmBidiService/BidiGenerateContent";
    private const int MaxRecordedConnections = 10_000;

    private readonly WebApplication _app;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stopping = new();
    private readonly Lock _gate = new();
    private readonly List<EmulatorConnection> _connections = [];
    private readonly ConcurrentDictionary<EmulatorConnection, byte> _open = new();
    private readonly ConcurrentQueue<EmulatorToolCallRule> _nextTurnToolCalls = new();
    private int _nextConnectionId;
    private int _stopped;

    private LiveApiEmulator(WebApplication app, LiveApiEmulatorOptions options, ILogger logger)
    {
        _app = app;
        Options = options;
        _logger = logger;
        Conversations = options.Conversations?.Store ?? new ConversationStore(options.TimeProvider);
    }

    /// <summary>The emulator's address, for example <c>http://127.0.0.1:54321</c>, with no path: set <c>GeminiOptions.BaseUrl</c> (or an SDK's base URL) to it.</summary>
    public Uri BaseUrl { get; private set; } = null!;

    /// <summary>The options; scenario options may be changed between connections and turns.</summary>
    public LiveApiEmulatorOptions Options { get; }

    /// <summary>Every connection accepted so far (the most recent 10,000), in order.</summary>
    public IReadOnlyList<EmulatorConnection> Connections
    {
        get
        {
            lock (_gate)
            {
                return [.. _connections];
            }
        }
    }

    internal ConversationStore Conversations { get; }

    /// <summary>Starts an emulator on <see cref="LiveApiEmulatorOptions.Host"/>:<see cref="LiveApiEmulatorOptions.Port"/> (127.0.0.1 and a free port unless the options say otherwise).</summary>
    /// <param name="options">The options; null uses the defaults.</param>
    /// <param name="cancellationToken">Cancels the start.</param>
    public static async Task<LiveApiEmulator> StartAsync(LiveApiEmulatorOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= new LiveApiEmulatorOptions();
        var address = string.Equals(options.Host, "localhost", StringComparison.OrdinalIgnoreCase)
            ? IPAddress.Loopback
            : IPAddress.Parse(options.Host.Trim('[', ']'));

        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.WebHost.UseKestrelCore().ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Listen(address, options.Port);
        });
        builder.Services.AddLogging();

        // The emulator lives inside tests and hosts: it must not take over Ctrl+C/SIGTERM or print host status lines.
        builder.Services.AddSingleton<IHostLifetime, EmbeddedLifetime>();
        if (options.LoggerFactory is { } loggerFactory)
        {
            builder.Services.AddSingleton<ILoggerFactory>(new QuietFrameworkLoggerFactory(loggerFactory));
        }

        var app = builder.Build();
        var logger = (options.LoggerFactory ?? NullLoggerFactory.Instance).CreateLogger("VoiceChat.Testing.LiveApiEmulator");
        var emulator = new LiveApiEmulator(app, options, logger);

        // Before UseWebSockets, which captures the upgrade feature when the request arrives.
        app.Use(emulator.WrapUpgradeForPongDelay);
        app.UseWebSockets();
        app.Run(emulator.HandleAsync);

        await app.StartAsync(cancellationToken).ConfigureAwait(false);
        var addresses = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses;
        emulator.BaseUrl = new Uri(addresses.First().TrimEnd('/'));
        EmulatorLog.Listening(logger, emulator.BaseUrl);
        return emulator;
    }

    /// <summary>
    /// On the next user turn of any connection, the model calls <paramref name="toolName"/> with
    /// <paramref name="argumentsJson"/> (instead of answering), waits for the <c>toolResponse</c>, then speaks a
    /// reply whose output transcription contains the response JSON. Calls queue up, one per turn.
    /// </summary>
    /// <param name="toolName">The function name.</param>
    /// <param name="argumentsJson">The call's <c>args</c>, a JSON object.</param>
    public void ScriptToolCall(string toolName, string argumentsJson = "{}")
    {
        ArgumentException.ThrowIfNullOrEmpty(toolName);
        _nextTurnToolCalls.Enqueue(new EmulatorToolCallRule { ToolName = toolName, ArgumentsJson = argumentsJson, Once = true });
    }

    /// <summary>Sends <c>goAway</c> on every open connection; each closes with 1011 "Deadline expired…" after <paramref name="timeLeft"/>.</summary>
    /// <param name="timeLeft">The time announced.</param>
    public Task SendGoAwayAsync(TimeSpan timeLeft) => ForEachOpen(s => s.GoAwayAsync(timeLeft));

    /// <summary>Injects <paramref name="fault"/> on every open connection now.</summary>
    /// <param name="fault">The fault.</param>
    public Task InjectFaultAsync(EmulatorFault fault) => ForEachOpen(s => s.FaultAsync(fault));

    /// <summary>Sends <c>toolCallCancellation</c> for the pending tool calls of every open connection.</summary>
    public Task CancelToolCallsAsync() => ForEachOpen(s => s.CancelPendingToolCallsAsync());

    /// <summary>Waits until at least <paramref name="count"/> connections were accepted; returns the last one.</summary>
    /// <param name="count">How many connections, in total.</param>
    /// <param name="timeout">How long to wait before throwing <see cref="TimeoutException"/>.</param>
    public async Task<EmulatorConnection> WaitForConnectionAsync(int count = 1, TimeSpan? timeout = null)
    {
        var deadline = Options.TimeProvider.GetTimestamp();
        var limit = timeout ?? TimeSpan.FromSeconds(10);
        while (true)
        {
            lock (_gate)
            {
                if (_nextConnectionId >= count && _connections.Count > 0)
                {
                    return _connections[^1];
                }
            }

            if (Options.TimeProvider.GetElapsedTime(deadline) > limit)
            {
                throw new TimeoutException($"The emulator accepted {_nextConnectionId} connection(s), not {count}.");
            }

            await Task.Delay(TimeSpan.FromMilliseconds(10), Options.TimeProvider).ConfigureAwait(false);
        }
    }

    /// <summary>Stops listening and ends every connection (aborting those still open).</summary>
    public async Task StopAsync()
    {
        if (Interlocked.Exchange(ref _stopped, 1) != 0)
        {
            return;
        }

        await _stopping.CancelAsync().ConfigureAwait(false);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        try
        {
            await _app.StopAsync(timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // Connections that did not end in time were aborted by the server.
        }

        await _app.DisposeAsync().ConfigureAwait(false);
        _stopping.Dispose();
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync() => await StopAsync().ConfigureAwait(false);

    /// <summary>Stops the emulator synchronously (for containers that dispose synchronously).</summary>
    public void Dispose() => StopAsync().GetAwaiter().GetResult();

    internal EmulatorToolCallRule? TakeToolCall(string userText)
    {
        if (_nextTurnToolCalls.TryDequeue(out var scripted))
        {
            return scripted;
        }

        var rules = Options.ToolCallRules;
        lock (rules)
        {
            for (var i = 0; i < rules.Count; i++)
            {
                var rule = rules[i];
                if (rule.WhenTextContains is null || userText.Contains(rule.WhenTextContains, StringComparison.OrdinalIgnoreCase))
                {
                    if (rule.Once)
                    {
                        rules.RemoveAt(i);
                    }

                    return rule;
                }
            }
        }

        return null;
    }

    private async Task ForEachOpen(Func<EmulatorSession, Task> action)
    {
        var tasks = new List<Task>();
        foreach (var connection in _open.Keys)
        {
            if (connection.Session is { IsOpen: true } session)
            {
                tasks.Add(action(session));
            }
        }

        await Task.WhenAll(tasks).ConfigureAwait(false);
    }

    private Task WrapUpgradeForPongDelay(HttpContext context, RequestDelegate next)
    {
        if (Options.PongDelay > TimeSpan.Zero && context.Features.Get<IHttpUpgradeFeature>() is { IsUpgradableRequest: true } upgrade)
        {
            context.Features.Set<IHttpUpgradeFeature>(new PongDelayUpgradeFeature(upgrade, Options.PongDelay, Options.TimeProvider));
        }

        return next(context);
    }

    private async Task HandleAsync(HttpContext context)
    {
        var path = context.Request.Path.Value ?? string.Empty;

        // Google's JS and Python SDKs join a base URL ending in '/' with '/ws/…' and so request '//ws/…';
        // Google accepts it, and ASP.NET Core routing would not, so paths are matched here by hand.
        var normalized = path.StartsWith("//", StringComparison.Ordinal) ? "/" + path.TrimStart('/') : path;
        if (!TryMatch(normalized, out var backend, out var apiVersion))
        {
            context.Response.StatusCode = StatusCodes.Status404NotFound;
            return;
        }

        if (!context.WebSockets.IsWebSocketRequest)
        {
            context.Response.StatusCode = StatusCodes.Status400BadRequest;
            return;
        }

        var apiKey = FirstNonEmpty(context.Request.Headers["x-goog-api-key"], context.Request.Query["key"]);
        string? bearer = null;
        var authorization = context.Request.Headers.Authorization.ToString();
        if (authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            bearer = authorization["Bearer ".Length..].Trim();
        }

        var refusal = backend == GeminiBackend.DeveloperApi
            ? CheckCredential(apiKey, Options.ExpectedApiKey, "API key")
            : bearer is not null || apiKey is null
                ? CheckCredential(bearer, Options.ExpectedBearerToken, "bearer token")
                : CheckCredential(apiKey, Options.ExpectedApiKey, "API key"); // Vertex express mode

        var connection = new EmulatorConnection(Interlocked.Increment(ref _nextConnectionId), path, backend, apiVersion, apiKey, bearer, Options.EchoAudio ? 0 : Options.MaxRecordedAudioBytes);
        lock (_gate)
        {
            if (_connections.Count == MaxRecordedConnections)
            {
                _connections.RemoveAt(0);
            }

            _connections.Add(connection);
        }

        EmulatorLog.Accepted(_logger, connection.Id, path, backend);
        try
        {
            using var socket = await context.WebSockets.AcceptWebSocketAsync(new WebSocketAcceptContext { DangerousEnableCompression = false }).ConfigureAwait(false);
            var session = new EmulatorSession(this, connection, context, socket, _logger, _stopping.Token);
            connection.Session = session;
            _open[connection] = 0;
            try
            {
                await session.RunAsync(refusal).ConfigureAwait(false);
            }
            finally
            {
                _open.TryRemove(connection, out _);
            }
        }
        finally
        {
            connection.MarkEnded();
        }
    }

    private static string? CheckCredential(string? presented, string? expected, string what) =>
        string.IsNullOrEmpty(presented) ? $"no {what}"
        : expected is not null && !string.Equals(presented, expected, StringComparison.Ordinal) ? $"wrong {what}"
        : null;

    private static string? FirstNonEmpty(StringValues first, StringValues second)
    {
        var value = first.ToString();
        if (!string.IsNullOrEmpty(value))
        {
            return value;
        }

        value = second.ToString();
        return string.IsNullOrEmpty(value) ? null : value;
    }

    private static bool TryMatch(string path, out GeminiBackend backend, out string apiVersion)
    {
        if (path.StartsWith(DeveloperPrefix, StringComparison.Ordinal) && path.EndsWith(DeveloperSuffix, StringComparison.Ordinal))
        {
            backend = GeminiBackend.DeveloperApi;
            apiVersion = path[DeveloperPrefix.Length..^DeveloperSuffix.Length];
            return apiVersion is "v1beta" or "v1alpha";
        }

        if (path.StartsWith(VertexPrefix, StringComparison.Ordinal) && path.EndsWith(VertexSuffix, StringComparison.Ordinal))
        {
            backend = GeminiBackend.VertexAI;
            apiVersion = path[VertexPrefix.Length..^VertexSuffix.Length];
            return apiVersion is "v1beta1" or "v1";
        }

        backend = default;
        apiVersion = string.Empty;
        return false;
    }

    /// <summary>A host lifetime that neither listens to console signals nor logs status lines.</summary>
    private sealed class EmbeddedLifetime : IHostLifetime
    {
        public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
