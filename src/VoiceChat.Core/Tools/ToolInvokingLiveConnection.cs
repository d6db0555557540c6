using System.Buffers;
using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using System.Text.Json;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using VoiceChat.Diagnostics;
using VoiceChat.Live;

namespace VoiceChat.Tools;

/// <summary>
/// Runs the model's tool calls on the server: each call in its own DI scope, with a timeout,
/// cancelled when the model withdraws it or the session ends, answered with <c>toolResponse</c>.
/// The session sees only <see cref="LiveEventKind.ToolStatus"/> events. A call id is executed at
/// most once per session, also when a resumed connection asks for it again. Every call runs on its own
/// task while this pump goes on relaying the model's events: for a non-blocking tool the model keeps
/// talking meanwhile, and its answer carries the tool's <c>scheduling</c>.
/// </summary>
internal sealed partial class ToolInvokingLiveConnection : ILiveConnection
{
    private const int EventCapacity = 64;

    private readonly ILiveConnection _inner;
    private readonly ToolRegistry _tools;
    private readonly IServiceScopeFactory _scopes;
    private readonly TimeSpan _timeout;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly string _sessionId;
    private readonly System.Diagnostics.ActivityContext _span = VoiceChatTelemetry.CurrentContext;
    private readonly LiveEventQueue _events = new(EventCapacity);
    private readonly ConcurrentDictionary<string, ToolCallState> _calls = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _lifetime = new();
    private readonly Task _pump;
    private int _disposed;

    public ToolInvokingLiveConnection(
        ILiveConnection inner,
        string sessionId,
        ToolRegistry tools,
        IServiceScopeFactory scopes,
        TimeSpan timeout,
        TimeProvider time,
        ILogger logger)
    {
        _inner = inner;
        _sessionId = sessionId;
        _tools = tools;
        _scopes = scopes;
        _timeout = timeout;
        _time = time;
        _logger = logger;
        _pump = Task.Run(PumpAsync);
    }

    public ValueTask SendAudioAsync(ReadOnlyMemory<byte> pcm16, CancellationToken cancellationToken) => _inner.SendAudioAsync(pcm16, cancellationToken);

    public ValueTask SendVideoAsync(ReadOnlyMemory<byte> image, string mimeType, CancellationToken cancellationToken) => _inner.SendVideoAsync(image, mimeType, cancellationToken);

    public ValueTask SendTextAsync(string text, CancellationToken cancellationToken) => _inner.SendTextAsync(text, cancellationToken);

    public ValueTask SendActivityStartAsync(CancellationToken cancellationToken) => _inner.SendActivityStartAsync(cancellationToken);

    public ValueTask SendActivityEndAsync(CancellationToken cancellationToken) => _inner.SendActivityEndAsync(cancellationToken);

    public ValueTask SendAudioStreamEndAsync(CancellationToken cancellationToken) => _inner.SendAudioStreamEndAsync(cancellationToken);

    public ValueTask SendToolResponsesAsync(IReadOnlyList<LiveToolResult> results, CancellationToken cancellationToken) => _inner.SendToolResponsesAsync(results, cancellationToken);

    public ValueTask<LiveEvent> ReceiveAsync(CancellationToken cancellationToken) => _events.ReadAsync(cancellationToken);

    public async ValueTask CloseAsync(CancellationToken cancellationToken)
    {
        CancelAllCalls();
        await _inner.CloseAsync(cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        CancelAllCalls();
        await _lifetime.CancelAsync().ConfigureAwait(false);
        await _inner.DisposeAsync().ConfigureAwait(false);
        try
        {
            await _pump.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }

        _events.CompleteAndReturnPending();

        _lifetime.Dispose();
    }

    private async Task PumpAsync()
    {
        var token = _lifetime.Token;
        try
        {
            while (true)
            {
                var e = await _inner.ReceiveAsync(token).ConfigureAwait(false);
                switch (e.Kind)
                {
                    case LiveEventKind.ToolCall:
                        foreach (var call in e.ToolCalls!)
                        {
                            await StartCallAsync(call, token).ConfigureAwait(false);
                        }

                        continue;
                    case LiveEventKind.ToolCallCancellation:
                        foreach (var id in e.CancelledToolCallIds!)
                        {
                            if (_calls.TryGetValue(id, out var state) && state.Cancel(ToolCallEnd.Withdrawn))
                            {
                                Log.ToolCallWithdrawn(_logger, _sessionId, state.Name, id);
                            }
                        }

                        continue;
                    case LiveEventKind.GoAway:
                        continue; // the resumption layer's business
                    case LiveEventKind.Closed:
                        CancelAllCalls();
                        await WriteAsync(e, token).ConfigureAwait(false);
                        return;
                    default:
                        if (!await WriteAsync(e, token).ConfigureAwait(false))
                        {
                            e.ReturnAudio();
                        }

                        continue;
                }
            }
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
        }
        catch (Exception ex)
        {
            // A fault in this process, not in the service.
            Log.PumpFailed(_logger, _sessionId, ex);
            var error = new LiveError(VoiceChatErrorCodes.InternalError, "The server failed.", Fatal: true);
            await WriteAsync(LiveEvent.ForError(error), token).ConfigureAwait(false);
            await WriteAsync(LiveEvent.ForClosed(error), token).ConfigureAwait(false);
        }
        finally
        {
            _events.Complete();
        }
    }

    private async ValueTask<bool> WriteAsync(LiveEvent e, CancellationToken cancellationToken)
    {
        try
        {
            return await _events.WriteAsync(e, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    private async ValueTask StartCallAsync(LiveToolCall call, CancellationToken cancellationToken)
    {
        var state = new ToolCallState(call.Name);
        if (call.Id.Length > 0 && !_calls.TryAdd(call.Id, state))
        {
            // The model asks again for a call it already made: a resumed connection restored a point
            // before the answer. Never run it twice; answer again if the answer is known.
            var existing = _calls[call.Id];
            Log.DuplicateToolCall(_logger, _sessionId, call.Name, call.Id);
            if (existing.Response is { } response)
            {
                await SendResponseAsync(new LiveToolResult(call.Id, call.Name, response, _tools.Find(call.Name)?.WireScheduling), cancellationToken).ConfigureAwait(false);
            }

            state.Dispose();
            return;
        }

        var registration = _tools.Find(call.Name);
        if (registration is null)
        {
            Log.UnknownTool(_logger, _sessionId, call.Name);
            var response = ErrorResponse($"There is no tool named '{call.Name}'.");
            state.Complete(response);
            await SendResponseAsync(new LiveToolResult(call.Id, call.Name, response), cancellationToken).ConfigureAwait(false);
            return;
        }

        await WriteAsync(LiveEvent.ForToolStatus(new LiveToolStatus(call.Name, LiveToolStatus.Started) { CallId = call.Id, Blocking = !registration.NonBlocking }), cancellationToken).ConfigureAwait(false);
        _ = Task.Run(() => RunCallAsync(call, registration, state), CancellationToken.None);
    }

    private async Task RunCallAsync(LiveToolCall call, ToolRegistration registration, ToolCallState state)
    {
        var tool = registration.Tool;
        Log.ToolCallStarted(_logger, _sessionId, call.Name, call.Id);
        var span = VoiceChatTelemetry.StartToolSpan(_span, _sessionId, call.Name, call.Id);
        var started = _time.GetTimestamp();
        using var timeout = new CancellationTokenSource(_timeout, _time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(timeout.Token, state.Token, _lifetime.Token);
        JsonElement? response;
        string status;
        VoiceToolCallOutcome outcome;
        try
        {
            var scope = _scopes.CreateAsyncScope();
            await using (scope.ConfigureAwait(false))
            {
                var arguments = new AIFunctionArguments { Services = scope.ServiceProvider };
                if (call.Arguments.ValueKind == JsonValueKind.Object)
                {
                    foreach (var property in call.Arguments.EnumerateObject())
                    {
                        arguments[property.Name] = property.Value;
                    }
                }

                var result = await tool.InvokeAsync(arguments, linked.Token).ConfigureAwait(false);
                response = OutputResponse(result, tool.JsonSerializerOptions);
                status = LiveToolStatus.Completed;
                outcome = VoiceToolCallOutcome.Succeeded;
                var elapsedMs = _time.GetElapsedTime(started).TotalMilliseconds;
                Log.ToolCallCompleted(_logger, _sessionId, call.Name, call.Id, elapsedMs);
            }
        }
        catch (OperationCanceledException) when (state.Token.IsCancellationRequested || _lifetime.IsCancellationRequested)
        {
            // Withdrawn by the model, or the session ends: nobody waits for an answer.
            response = null;
            status = LiveToolStatus.Cancelled;
            outcome = VoiceToolCallOutcome.Cancelled;
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested)
        {
            Log.ToolCallTimedOut(_logger, _sessionId, call.Name, call.Id, _timeout.TotalSeconds);
            response = ErrorResponse($"The tool did not finish within {_timeout.TotalSeconds:0.###} seconds.");
            status = LiveToolStatus.Failed;
            outcome = VoiceToolCallOutcome.TimedOut;
        }
        catch (Exception ex)
        {
            // The exception's text stays in the logs: the model might read it out to the user.
            Log.ToolCallFailed(_logger, _sessionId, call.Name, call.Id, ex);
            response = ErrorResponse("The tool failed.");
            status = LiveToolStatus.Failed;
            outcome = VoiceToolCallOutcome.Failed;
        }

        var duration = _time.GetElapsedTime(started);
        VoiceChatTelemetry.ToolCallEnded(span, call.Name, status);
        var scheduling = response is null ? null : registration.WireScheduling;
        if (response is { } answer)
        {
            state.Complete(answer);
            await SendResponseAsync(new LiveToolResult(call.Id, call.Name, answer, scheduling), _lifetime.Token).ConfigureAwait(false);
        }
        else
        {
            state.Dispose();
        }

        if (!_lifetime.IsCancellationRequested)
        {
            var ended = new LiveToolStatus(call.Name, status) { CallId = call.Id, Outcome = outcome, Duration = duration, Blocking = !registration.NonBlocking, Scheduling = scheduling };
            await WriteAsync(LiveEvent.ForToolStatus(ended), _lifetime.Token).ConfigureAwait(false);
        }
    }

    private async ValueTask SendResponseAsync(LiveToolResult result, CancellationToken cancellationToken)
    {
        try
        {
            await _inner.SendToolResponsesAsync([result], cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is LiveConnectionException or OperationCanceledException or ObjectDisposedException)
        {
            Log.ToolResponseNotSent(_logger, _sessionId, result.Name, result.Id, ex.Message);
        }
    }

    private void CancelAllCalls()
    {
        foreach (var state in _calls.Values)
        {
            state.Cancel(ToolCallEnd.SessionEnded);
        }
    }

    /// <summary><c>{"output": result}</c>, serialised with the tool's own (source-generated or default) options.</summary>
    internal static JsonElement OutputResponse(object? result, JsonSerializerOptions serializerOptions)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WritePropertyName("output");
            switch (result)
            {
                case null:
                    json.WriteNullValue();
                    break;
                case JsonElement element:
                    element.WriteTo(json);
                    break;
                case JsonDocument document:
                    document.WriteTo(json);
                    break;
                case string text:
                    json.WriteStringValue(text);
                    break;
                default:
                    JsonSerializer.Serialize(json, result, serializerOptions.GetTypeInfo(result.GetType()));
                    break;
            }

            json.WriteEndObject();
        }

        using var parsed = JsonDocument.Parse(buffer.WrittenMemory);
        return parsed.RootElement.Clone();
    }

    /// <summary><c>{"error": message}</c>.</summary>
    internal static JsonElement ErrorResponse(string message)
    {
        var buffer = new ArrayBufferWriter<byte>(128);
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("error", message);
            json.WriteEndObject();
        }

        using var parsed = JsonDocument.Parse(buffer.WrittenMemory);
        return parsed.RootElement.Clone();
    }

    private enum ToolCallEnd
    {
        Withdrawn,
        SessionEnded,
    }

    /// <summary>One call's cancellation and, once known, its answer (to repeat it, never to rerun the call).</summary>
    private sealed class ToolCallState(string name) : IDisposable
    {
        private readonly CancellationTokenSource _cancel = new();
        private int _done;

        public string Name { get; } = name;

        public CancellationToken Token => _cancel.Token;

        public JsonElement? Response { get; private set; }

        public bool Cancel(ToolCallEnd reason)
        {
            _ = reason;
            if (Volatile.Read(ref _done) != 0)
            {
                return false;
            }

            try
            {
                _cancel.Cancel();
                return true;
            }
            catch (ObjectDisposedException)
            {
                return false;
            }
        }

        public void Complete(JsonElement response)
        {
            Response = response;
            Dispose();
        }

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _done, 1) == 0)
            {
                _cancel.Dispose();
            }
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 1301, Level = LogLevel.Information, Message = "Session {SessionId}: tool {ToolName} called (id {CallId}).")]
        public static partial void ToolCallStarted(ILogger logger, string sessionId, string toolName, string callId);

        [LoggerMessage(EventId = 1302, Level = LogLevel.Information, Message = "Session {SessionId}: tool {ToolName} (id {CallId}) completed in {ElapsedMs:F0} ms.")]
        public static partial void ToolCallCompleted(ILogger logger, string sessionId, string toolName, string callId, double elapsedMs);

        [LoggerMessage(EventId = 1303, Level = LogLevel.Warning, Message = "Session {SessionId}: tool {ToolName} (id {CallId}) failed.")]
        public static partial void ToolCallFailed(ILogger logger, string sessionId, string toolName, string callId, Exception exception);

        [LoggerMessage(EventId = 1304, Level = LogLevel.Warning, Message = "Session {SessionId}: tool {ToolName} (id {CallId}) did not finish within {TimeoutSeconds} s and was cancelled.")]
        public static partial void ToolCallTimedOut(ILogger logger, string sessionId, string toolName, string callId, double timeoutSeconds);

        [LoggerMessage(EventId = 1305, Level = LogLevel.Information, Message = "Session {SessionId}: the model withdrew the call of tool {ToolName} (id {CallId}).")]
        public static partial void ToolCallWithdrawn(ILogger logger, string sessionId, string toolName, string callId);

        [LoggerMessage(EventId = 1306, Level = LogLevel.Information, Message = "Session {SessionId}: tool {ToolName} (id {CallId}) was asked for again and is not run twice.")]
        public static partial void DuplicateToolCall(ILogger logger, string sessionId, string toolName, string callId);

        [LoggerMessage(EventId = 1307, Level = LogLevel.Warning, Message = "Session {SessionId}: the model called {ToolName}, which is not a registered tool.")]
        public static partial void UnknownTool(ILogger logger, string sessionId, string toolName);

        [LoggerMessage(EventId = 1308, Level = LogLevel.Warning, Message = "Session {SessionId}: the answer of tool {ToolName} (id {CallId}) could not be sent: {Reason}")]
        public static partial void ToolResponseNotSent(ILogger logger, string sessionId, string toolName, string callId, string reason);

        [LoggerMessage(EventId = 1309, Level = LogLevel.Error, Message = "Session {SessionId}: reading the model's events failed.")]
        public static partial void PumpFailed(ILogger logger, string sessionId, Exception exception);
    }
}
