using System.Buffers;
using System.Net.WebSockets;
using System.Text.Json;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using VoiceChat.Testing.Sessions.Faults;
using VoiceChat.Testing.Sessions.Input;
using VoiceChat.Testing.Sessions.Resumption;
using VoiceChat.Testing.Sessions.Setup;
using VoiceChat.Testing.Sessions.Tools;
using VoiceChat.Testing.Sessions.Turns;
using VoiceChat.Testing.Wire;

namespace VoiceChat.Testing.Sessions;

/// <summary>
/// One emulated Live API connection: a receive loop that validates and dispatches client messages as
/// strictly as Google does. Each concern is a part it composes: <see cref="SetupReader"/> (setup),
/// <see cref="RealtimeInputHandler"/> and its <see cref="TurnDetector"/> (input audio into user turns),
/// <see cref="ClientContentReader"/> (typed turns and history), <see cref="TurnController"/> and
/// <see cref="ModelReply"/> (the model's turns), <see cref="PendingToolCalls"/> (tool calls),
/// <see cref="SessionResumption"/> (conversations and handles), <see cref="FaultInjector"/> (injected
/// failures) and <see cref="SessionLifetime"/> (how the connection ends, and its one socket writer).
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "RunAsync owns the lifetime: everything is disposed when the connection ends.")]
internal sealed class EmulatorSession
{
    private const int ReceiveBufferBytes = 16 * 1024;

    private readonly LiveApiEmulator _emulator;
    private readonly LiveApiEmulatorOptions _options;
    private readonly EmulatorConnection _record;
    private readonly WebSocket _socket;
    private readonly ILogger _logger;
    private readonly SessionLifetime _lifetime;
    private readonly ServerMessageSender _sender;
    private readonly PendingToolCalls _toolCalls = new();
    private readonly SessionResumption _resumption;
    private readonly FaultInjector _faults;
    private readonly TurnController _turns;

    private bool _setupReceived;
    private bool _ignoreInput;
    private SessionSetup? _setup;
    private RealtimeInputHandler? _realtimeInput;
    private bool _historySeedOpen;

    public EmulatorSession(LiveApiEmulator emulator, EmulatorConnection record, HttpContext http, WebSocket socket, ILogger logger, CancellationToken stopping)
    {
        _emulator = emulator;
        _options = emulator.Options;
        _record = record;
        _socket = socket;
        _logger = logger;
        _lifetime = new SessionLifetime(socket, http, record, _options.SendTextFrames, stopping);
        _sender = _lifetime.Sender;
        _resumption = new SessionResumption(emulator.Conversations, this, record, _sender, _options);
        _faults = new FaultInjector(_lifetime, record, _options);
        _turns = new TurnController(_lifetime, _toolCalls, _resumption, _options, record.Backend);
    }

    /// <summary>Open and not closing: a resume of the same conversation must wait for this one to end.</summary>
    public bool IsOpen => _lifetime.IsOpen;

    private TimeProvider Time => _options.TimeProvider;

    private GeminiBackend Backend => _record.Backend;

    /// <summary>Runs the connection to its end. Never throws.</summary>
    public async Task RunAsync(string? refusal)
    {
        try
        {
            if (refusal is not null)
            {
                // Google accepts the upgrade and then closes with the reason (§5: setup errors arrive as a close).
                var (status, reason) = EmulatorCloseReasons.For(EmulatorFault.AuthenticationFailed, Backend, string.Empty, _record.ApiVersion);
                EmulatorLog.Refused(_logger, _record.Id, refusal);
                await CloseAsync(status!.Value, reason).ConfigureAwait(false);
            }

            await ReceiveLoopAsync().ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            EmulatorLog.Failed(_logger, _record.Id, ex);
        }
        finally
        {
            await ShutdownAsync().ConfigureAwait(false);
        }
    }

    // ---- receive loop ---------------------------------------------------------------------------

    private async Task ReceiveLoopAsync()
    {
        var token = _lifetime.Token;
        byte[]? buffer = null;
        try
        {
            while (true)
            {
                // A zero-byte read waits for the next message without holding a buffer.
                var first = await _socket.ReceiveAsync(Memory<byte>.Empty, token).ConfigureAwait(false);
                if (first.MessageType == WebSocketMessageType.Close)
                {
                    await _lifetime.ClientClosedAsync().ConfigureAwait(false);
                    return;
                }

                buffer = ArrayPool<byte>.Shared.Rent(ReceiveBufferBytes);
                var length = 0;
                var end = first.EndOfMessage;
                var max = Math.Max(1024, _options.MaxMessageBytes);
                while (!end)
                {
                    if (length >= Math.Min(buffer.Length, max))
                    {
                        if (length >= max)
                        {
                            await CloseAsync(WebSocketCloseStatus.MessageTooBig, EmulatorCloseReasons.MessageTooBig).ConfigureAwait(false);
                            break;
                        }

                        var bigger = ArrayPool<byte>.Shared.Rent(Math.Min(max, buffer.Length * 2));
                        buffer.AsSpan(0, length).CopyTo(bigger);
                        ArrayPool<byte>.Shared.Return(buffer);
                        buffer = bigger;
                    }

                    var result = await _socket.ReceiveAsync(buffer.AsMemory(length, Math.Min(buffer.Length, max) - length), token).ConfigureAwait(false);
                    if (result.MessageType == WebSocketMessageType.Close)
                    {
                        await _lifetime.ClientClosedAsync().ConfigureAwait(false);
                        return;
                    }

                    length += result.Count;
                    end = result.EndOfMessage;
                }

                if (end && !_lifetime.IsClosing)
                {
                    _record.RecordMessage();
                    try
                    {
                        await HandleMessageAsync(buffer.AsMemory(0, length)).ConfigureAwait(false);
                    }
                    catch (Exception ex) when (ex is JsonException or InvalidOperationException or FormatException or ArgumentException or KeyNotFoundException)
                    {
                        // A well-formed message with a value of the wrong type: Google's answer is an invalid argument.
                        await CloseAsync(WebSocketCloseStatus.InvalidPayloadData, EmulatorCloseReasons.InvalidArgument).ConfigureAwait(false);
                    }
                }

                ArrayPool<byte>.Shared.Return(buffer);
                buffer = null;
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or WebSocketException or IOException or ObjectDisposedException or ConnectionAbortedException)
        {
            // The client went away, the close handshake timed out, or the emulator is stopping.
        }
        finally
        {
            if (buffer is not null)
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }
    }

    private async Task HandleMessageAsync(ReadOnlyMemory<byte> message)
    {
        if (_ignoreInput)
        {
            return;
        }

        var input = new RealtimeInput();
        string? name;
        try
        {
            name = ClientMessageReader.Read(message, ref input, out var unknownInRealtime);
            if (unknownInRealtime is not null)
            {
                await CloseAsync(WebSocketCloseStatus.InvalidPayloadData, EmulatorCloseReasons.UnknownField(unknownInRealtime, "realtime_input")).ConfigureAwait(false);
                return;
            }
        }
        catch (JsonException)
        {
            await CloseAsync(WebSocketCloseStatus.InvalidPayloadData, "Invalid JSON payload received.").ConfigureAwait(false);
            return;
        }
        catch (FormatException)
        {
            await CloseAsync(WebSocketCloseStatus.InvalidPayloadData, EmulatorCloseReasons.InvalidArgument).ConfigureAwait(false);
            return;
        }

        try
        {
            switch (name)
            {
                case "setup":
                    if (_setupReceived)
                    {
                        await CloseAsync(WebSocketCloseStatus.InvalidPayloadData, EmulatorCloseReasons.InvalidArgument).ConfigureAwait(false);
                        return;
                    }

                    _setupReceived = true;
                    await HandleSetupAsync(message).ConfigureAwait(false);
                    return;
                case null:
                    await CloseAsync(WebSocketCloseStatus.InvalidPayloadData, EmulatorCloseReasons.InvalidArgument).ConfigureAwait(false);
                    return;
            }

            if (!_setupReceived)
            {
                // The first message must be setup.
                await CloseAsync(WebSocketCloseStatus.InvalidPayloadData, EmulatorCloseReasons.InvalidArgument).ConfigureAwait(false);
                return;
            }

            switch (name)
            {
                case "realtimeInput":
                    await _realtimeInput!.HandleAsync(message, input).ConfigureAwait(false);
                    break;
                case "clientContent":
                    await HandleClientContentAsync(message).ConfigureAwait(false);
                    break;
                case "toolResponse":
                    var nonBlockingAnswers = _toolCalls.Answer(message, _record, out var refusal);
                    if (refusal is not null)
                    {
                        await CloseAsync(WebSocketCloseStatus.InvalidPayloadData, refusal).ConfigureAwait(false);
                        return;
                    }

                    foreach (var (answer, scheduling) in nonBlockingAnswers)
                    {
                        await _turns.DeliverToolResultAsync(answer, scheduling).ConfigureAwait(false);
                    }

                    break;
                default:
                    await CloseAsync(WebSocketCloseStatus.InvalidPayloadData, EmulatorCloseReasons.UnknownField(name)).ConfigureAwait(false);
                    break;
            }
        }
        finally
        {
            input.Dispose();
        }
    }

    // ---- setup ----------------------------------------------------------------------------------

    private async Task HandleSetupAsync(ReadOnlyMemory<byte> message)
    {
        var setup = SetupReader.Read(message, _record, _options, out var rejection);
        if (setup is null)
        {
            await CloseAsync(rejection.Status, rejection.Reason).ConfigureAwait(false);
            return;
        }

        _setup = setup;
        _turns.Use(new ModelReply(_emulator, setup, _record, _sender, _toolCalls, _resumption, _faults));
        _realtimeInput = new RealtimeInputHandler(setup, _lifetime, _turns, _record, _options);
        _historySeedOpen = setup.HistorySeed;
        if (_resumption.Attach(setup) is { } refusal)
        {
            await CloseAsync(refusal.Status, refusal.Reason).ConfigureAwait(false);
            return;
        }

        if (_options.SetupFault is { } fault)
        {
            await FaultAsync(fault).ConfigureAwait(false);
            return;
        }

        if (setup.SuppressSetupComplete)
        {
            _ignoreInput = true;
            return;
        }

        if (_options.SetupCompleteDelay > TimeSpan.Zero)
        {
            // Blocking the receive loop here is deliberate: messages sent early are handled after setupComplete.
            await Task.Delay(_options.SetupCompleteDelay, Time, _lifetime.Token).ConfigureAwait(false);
        }

        var sessionId = Backend == GeminiBackend.VertexAI ? Guid.NewGuid().ToString() : null;
        if (!await _sender.SendJsonAsync(sessionId, ServerMessages.SetupComplete).ConfigureAwait(false))
        {
            return;
        }

        _record.RecordSetupComplete();
        await _resumption.SetupCompletedAsync().ConfigureAwait(false);

        _faults.ScheduleGoAway();
    }

    // ---- client content ---------------------------------------------------------------------------

    private async Task HandleClientContentAsync(ReadOnlyMemory<byte> message)
    {
        var seeding = _historySeedOpen && !_realtimeInput!.Started;
        var content = ClientContentReader.Read(message);
        if (_setup!.IsGemini3 && !seeding)
        {
            // Gemini 3.x only accepts clientContent as the initial history seed.
            await CloseAsync(WebSocketCloseStatus.InvalidPayloadData, EmulatorCloseReasons.InvalidArgument).ConfigureAwait(false);
            return;
        }

        foreach (var (role, text) in content.Turns)
        {
            _record.RecordText(text);
            _resumption.Conversation?.AddHistory($"{role}: {text}");
        }

        if (!content.Valid)
        {
            await CloseAsync(WebSocketCloseStatus.InvalidPayloadData, EmulatorCloseReasons.InvalidArgument).ConfigureAwait(false);
            return;
        }

        if (!content.TurnComplete)
        {
            return;
        }

        if (seeding)
        {
            // The seed ends with turnComplete; the model is not called for it.
            _historySeedOpen = false;
            return;
        }

        await _turns.StartAsync(TurnInput.ForText(content.LastUserText ?? string.Empty), forcedCall: null, interruptFirst: true).ConfigureAwait(false);
    }

    // ---- scripting from tests ---------------------------------------------------------------------

    public async Task<string> CallToolNowAsync(string? callId, string toolName, string argumentsJson)
    {
        using (var args = JsonDocument.Parse(argumentsJson))
        {
            if (args.RootElement.ValueKind != JsonValueKind.Object)
            {
                throw new ArgumentException("The arguments must be a JSON object.", nameof(argumentsJson));
            }
        }

        if (!IsOpen || !_record.SetupCompleted)
        {
            throw new InvalidOperationException("The connection is not open with setup complete.");
        }

        var plan = new ToolCallPlan(callId ?? ToolCallPlan.NewId(Backend), toolName, argumentsJson);
        await _turns.StartAsync(TurnInput.None, plan, interruptFirst: true).ConfigureAwait(false);
        return plan.Id;
    }

    public Task<IReadOnlyList<string>> CancelPendingToolCallsAsync() => _turns.CancelToolCallsAsync();

    public Task GoAwayAsync(TimeSpan timeLeft) => _faults.GoAwayAsync(timeLeft);

    public Task FaultAsync(EmulatorFault fault) => _faults.InjectAsync(fault, _setup?.Model ?? string.Empty);

    /// <summary>Closes with a code and reason (once); the receive loop ends when the client answers, or is aborted after a timeout.</summary>
    public Task CloseAsync(WebSocketCloseStatus status, string reason) => _lifetime.CloseAsync(status, reason);

    private async Task ShutdownAsync()
    {
        await _lifetime.EndAsync().ConfigureAwait(false);
        try
        {
            await _turns.EndAsync().ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            EmulatorLog.Failed(_logger, _record.Id, ex);
        }

        _toolCalls.CancelAll();
        _resumption.Release();

        if (_record.CloseStatus is null && !_record.Dropped && _socket.CloseStatus is { } status)
        {
            _record.RecordClose(status, _socket.CloseStatusDescription, dropped: false);
        }

        _realtimeInput?.Dispose();
        EmulatorLog.Ended(_logger, _record.Id, _record.CloseStatus, _record.CloseDescription, _record.Dropped);
        _record.MarkEnded();
        _lifetime.Dispose();
    }
}
