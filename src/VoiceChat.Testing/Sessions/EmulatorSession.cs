using System.Buffers;
using System.Buffers.Binary;
using System.Buffers.Text;
using System.Globalization;
using System.Net.WebSockets;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using VoiceChat.Testing.Audio;
using VoiceChat.Testing.Sessions.Faults;
using VoiceChat.Testing.Sessions.Input;
using VoiceChat.Testing.Sessions.Resumption;
using VoiceChat.Testing.Sessions.Setup;
using VoiceChat.Testing.Sessions.Tools;
using VoiceChat.Testing.Sessions.Turns;
using VoiceChat.Testing.Wire;
using static VoiceChat.Testing.Wire.ProtoJson;

namespace VoiceChat.Testing.Sessions;

/// <summary>
/// One emulated Live API connection: a receive loop that validates and dispatches client messages as
/// strictly as Google does, and at most one reply task that speaks the model's turn. Turn changes
/// (start, barge-in, tool cancellation) are serialised by <see cref="_turnGate"/>; socket writes go
/// through the single <see cref="ServerMessageSender"/>.
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
    private readonly ServerMessageSender _sender;
    private readonly SessionLifetime _lifetime;
    private readonly FaultInjector _faults;
    private readonly SemaphoreSlim _turnGate = new(1, 1);

    private bool _setupReceived;
    private bool _ignoreInput;
    private readonly PendingToolCalls _toolCalls = new();
    private readonly SessionResumption _resumption;
    private SessionSetup? _setup;
    private TurnDetector? _turnDetector;
    private bool _historySeedOpen;
    private bool _realtimeStarted;
    private Task? _replyTask;
    private CancellationTokenSource? _replyCts;
    private volatile bool _turnOpen;
    private int _connectionTurns;

    public EmulatorSession(LiveApiEmulator emulator, EmulatorConnection record, HttpContext http, WebSocket socket, ILogger logger, CancellationToken stopping)
    {
        _emulator = emulator;
        _options = emulator.Options;
        _record = record;
        _socket = socket;
        _logger = logger;
        _lifetime = new SessionLifetime(socket, http, record, _options.SendTextFrames, stopping);
        _sender = _lifetime.Sender;
        _faults = new FaultInjector(_lifetime, record, _options);
        _resumption = new SessionResumption(emulator.Conversations, this, record, _sender, _options);
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
                    await HandleRealtimeInputAsync(message, input).ConfigureAwait(false);
                    break;
                case "clientContent":
                    await HandleClientContentAsync(message).ConfigureAwait(false);
                    break;
                case "toolResponse":
                    _toolCalls.Answer(message, _record);
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
        _turnDetector = new TurnDetector(_options, setup.ManualActivity, setup.SilenceDuration);
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

    // ---- realtime input ---------------------------------------------------------------------------

    private async Task HandleRealtimeInputAsync(ReadOnlyMemory<byte> message, RealtimeInput input)
    {
        if (input.MediaChunks)
        {
            if (_setup!.IsGemini3)
            {
                await CloseAsync(WebSocketCloseStatus.InvalidPayloadData, EmulatorCloseReasons.MediaChunksDeprecated).ConfigureAwait(false);
                return;
            }

            await HandleMediaChunksAsync(message).ConfigureAwait(false);
        }

        if (input.HasAudio)
        {
            _realtimeStarted = true;
            if (_options.EchoAudio)
            {
                var length = input.Data.Length;
                var padding = length > 0 && input.Data.Span[length - 1] == '=' ? (length > 1 && input.Data.Span[length - 2] == '=' ? 2 : 1) : 0;
                _record.RecordAudioCount((length / 4 * 3) - padding);
                await _sender.SendAudioBase64Async(input.Data).ConfigureAwait(false);
                return;
            }

            await HandleAudioBase64Async(input.Data, input.Rate).ConfigureAwait(false);
        }

        if (input.Text is { } text)
        {
            _realtimeStarted = true;
            _record.RecordText(text);
            await StartTurnAsync(TurnInput.ForText(text), forcedCall: null, interruptFirst: true).ConfigureAwait(false);
        }

        if (input.ActivityStart)
        {
            _record.RecordActivity(EmulatorActivitySignal.ActivityStart);
            if (!_setup!.ManualActivity)
            {
                // Activity signals are only allowed with automatic activity detection disabled.
                await CloseAsync(WebSocketCloseStatus.InvalidPayloadData, EmulatorCloseReasons.InvalidArgument).ConfigureAwait(false);
                return;
            }

            await InterruptAsync().ConfigureAwait(false);
            _turnDetector!.StartActivity();
        }

        if (input.ActivityEnd)
        {
            _record.RecordActivity(EmulatorActivitySignal.ActivityEnd);
            if (!_setup!.ManualActivity)
            {
                await CloseAsync(WebSocketCloseStatus.InvalidPayloadData, EmulatorCloseReasons.InvalidArgument).ConfigureAwait(false);
                return;
            }

            if (_turnDetector!.EndActivity() is { } utterance)
            {
                await StartTurnAsync(utterance, forcedCall: null, interruptFirst: true).ConfigureAwait(false);
            }
        }

        if (input.AudioStreamEnd)
        {
            _record.RecordActivity(EmulatorActivitySignal.AudioStreamEnd);
            if (_turnDetector!.EndAudioStream() is { } utterance)
            {
                await StartTurnAsync(utterance, forcedCall: null, interruptFirst: true).ConfigureAwait(false);
            }
        }
    }

    private async Task HandleMediaChunksAsync(ReadOnlyMemory<byte> message)
    {
        // Legacy 2.x form, rare: a DOM is fine here.
        using var document = JsonDocument.Parse(message);
        var realtime = document.RootElement.EnumerateObject().First().Value;
        if (!TryGet(realtime, "mediaChunks", out var chunks) || chunks.ValueKind != JsonValueKind.Array)
        {
            return;
        }

        foreach (var chunk in chunks.EnumerateArray())
        {
            if (TryGet(chunk, "data", out var data) && data.ValueKind == JsonValueKind.String)
            {
                var rate = TryGet(chunk, "mimeType", out var mime) && mime.ValueKind == JsonValueKind.String
                    ? PcmAudio.ParseRate(Encoding.UTF8.GetBytes(mime.GetString()!), 16000)
                    : 16000;
                await HandleAudioBase64Async(Encoding.UTF8.GetBytes(data.GetString()!), rate).ConfigureAwait(false);
            }
        }
    }

    private async Task HandleAudioBase64Async(ReadOnlyMemory<byte> base64, int rate)
    {
        var pcm = ArrayPool<byte>.Shared.Rent(Math.Max(16, Base64.GetMaxDecodedFromUtf8Length(base64.Length)));
        try
        {
            if (Base64.DecodeFromUtf8(base64.Span, pcm, out _, out var written) != OperationStatus.Done)
            {
                await CloseAsync(WebSocketCloseStatus.InvalidPayloadData, EmulatorCloseReasons.InvalidArgument).ConfigureAwait(false);
                return;
            }

            _record.RecordAudio(pcm.AsSpan(0, written));
            await ProcessAudioAsync(pcm.AsMemory(0, written & ~1), rate).ConfigureAwait(false);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(pcm);
        }
    }

    private async Task ProcessAudioAsync(ReadOnlyMemory<byte> pcm, int rate)
    {
        var utterance = _turnDetector!.Process(pcm.Span, rate, out var speechStarted);
        if (speechStarted)
        {
            await InterruptAsync().ConfigureAwait(false);
        }

        if (utterance is not null)
        {
            await StartTurnAsync(utterance, forcedCall: null, interruptFirst: true).ConfigureAwait(false);
        }
    }

    // ---- client content and tool responses --------------------------------------------------------

    private async Task HandleClientContentAsync(ReadOnlyMemory<byte> message)
    {
        using var document = JsonDocument.Parse(message);
        var content = document.RootElement.EnumerateObject().First().Value;
        var seeding = _historySeedOpen && !_realtimeStarted;
        if (_setup!.IsGemini3 && !seeding)
        {
            // Gemini 3.x only accepts clientContent as the initial history seed.
            await CloseAsync(WebSocketCloseStatus.InvalidPayloadData, EmulatorCloseReasons.InvalidArgument).ConfigureAwait(false);
            return;
        }

        string? lastUserText = null;
        if (TryGet(content, "turns", out var turns) && turns.ValueKind == JsonValueKind.Array)
        {
            foreach (var turn in turns.EnumerateArray())
            {
                var role = TryGet(turn, "role", out var r) ? r.GetString() : "user";
                if (!TryGet(turn, "parts", out var parts) || parts.ValueKind != JsonValueKind.Array)
                {
                    continue;
                }

                var text = new StringBuilder();
                foreach (var part in parts.EnumerateArray())
                {
                    if (TryGet(part, "functionCall", out _) || TryGet(part, "functionResponse", out _))
                    {
                        // Live only accepts text and media content here.
                        await CloseAsync(WebSocketCloseStatus.InvalidPayloadData, EmulatorCloseReasons.InvalidArgument).ConfigureAwait(false);
                        return;
                    }

                    if (TryGet(part, "text", out var t) && t.ValueKind == JsonValueKind.String)
                    {
                        text.Append(t.GetString());
                    }
                }

                if (text.Length > 0)
                {
                    _record.RecordText(text.ToString());
                    _resumption.Conversation?.AddHistory($"{role}: {text}");
                    if (!string.Equals(role, "model", StringComparison.Ordinal))
                    {
                        lastUserText = text.ToString();
                    }
                }
            }
        }

        var complete = TryGet(content, "turnComplete", out var tc) && tc.ValueKind == JsonValueKind.True;
        if (!complete)
        {
            return;
        }

        if (seeding)
        {
            // The seed ends with turnComplete; the model is not called for it.
            _historySeedOpen = false;
            return;
        }

        await StartTurnAsync(TurnInput.ForText(lastUserText ?? string.Empty), forcedCall: null, interruptFirst: true).ConfigureAwait(false);
    }

    // ---- turns ------------------------------------------------------------------------------------

    private async Task StartTurnAsync(TurnInput input, ToolCallPlan? forcedCall, bool interruptFirst)
    {
        await _turnGate.WaitAsync(_lifetime.Token).ConfigureAwait(false);
        try
        {
            if (_lifetime.IsClosing)
            {
                return;
            }

            if (interruptFirst)
            {
                await InterruptLockedAsync().ConfigureAwait(false);
            }

            var call = forcedCall ?? ToolCallPlan.ForRule(_emulator.TakeToolCall(input.UserText), _setup!.Functions, Backend);
            var cts = CancellationTokenSource.CreateLinkedTokenSource(_lifetime.Token, _lifetime.Closing);
            _replyCts = cts;
            _replyTask = Task.Run(() => RunTurnAsync(input, call, cts.Token));
        }
        finally
        {
            _turnGate.Release();
        }
    }

    private async Task InterruptAsync()
    {
        await _turnGate.WaitAsync(_lifetime.Token).ConfigureAwait(false);
        try
        {
            await InterruptLockedAsync().ConfigureAwait(false);
        }
        finally
        {
            _turnGate.Release();
        }
    }

    /// <summary>Barge-in: stops the reply, cancels pending tool calls, and closes an open model turn with <c>interrupted</c>.</summary>
    private async Task InterruptLockedAsync()
    {
        var task = _replyTask;
        if (task is null)
        {
            return;
        }

        await StopReplyLockedAsync().ConfigureAwait(false);
        var ids = _toolCalls.CancelAll();
        if (ids.Count > 0 && _options.CancelToolCallsOnBargeIn)
        {
            await _sender.SendJsonAsync(ids, ServerMessages.ToolCallCancellation).ConfigureAwait(false);
        }

        if (_turnOpen)
        {
            _turnOpen = false;
            await _sender.SendJsonAsync("interrupted", ServerMessages.Flag).ConfigureAwait(false);
            await _sender.SendJsonAsync(new TurnUsage(1, 0, "AUDIO", "AUDIO", Backend == GeminiBackend.VertexAI), ServerMessages.TurnComplete).ConfigureAwait(false);
            await _resumption.SendHandleAsync().ConfigureAwait(false);
        }
    }

    private async Task StopReplyLockedAsync()
    {
        var task = _replyTask;
        var cts = _replyCts;
        _replyTask = null;
        _replyCts = null;
        if (task is null)
        {
            return;
        }

        try
        {
            await (cts?.CancelAsync() ?? Task.CompletedTask).ConfigureAwait(false);
            await task.ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException)
        {
        }
        finally
        {
            cts?.Dispose();
        }
    }

    private async Task RunTurnAsync(TurnInput input, ToolCallPlan? call, CancellationToken cancellationToken)
    {
        var conversation = _resumption.Conversation!;
        var turnNumber = conversation.StartTurn();

        var connectionTurn = Interlocked.Increment(ref _connectionTurns);
        var vertex = Backend == GeminiBackend.VertexAI;
        _turnOpen = true;
        await _resumption.TurnStartedAsync().ConfigureAwait(false);

        if (input.Audio is not null && _setup!.InputTranscription)
        {
            var seconds = TurnInput.FormatSeconds(input.AudioDuration);
            string[] fragments = ["[heard", $" {seconds} s", " of audio]"];
            for (var i = 0; i < fragments.Length; i++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                await _sender.SendJsonAsync((true, fragments[i], i == fragments.Length - 1), ServerMessages.Transcription).ConfigureAwait(false);
            }
        }

        if (input.UserText.Length > 0)
        {
            conversation.AddHistory($"user: {input.UserText}");
        }

        var promptTokens = Math.Max(1, (int)(input.AudioDuration.TotalSeconds * 25) + (input.Text?.Length ?? 0) / 4);
        var promptModality = input.Audio is not null ? "AUDIO" : "TEXT";
        string replyText;
        byte[] replyAudio;
        if (call is not null)
        {
            var pending = _toolCalls.Add(call);

            _record.RecordToolCall(call.Id);
            await _sender.SendJsonAsync((call.Id, call.Name, call.ArgumentsJson), ServerMessages.ToolCall).ConfigureAwait(false);
            if (!_setup!.IsGemini3)
            {
                // 2.x completes the turn after a tool call; 3.x withholds turnComplete until the response.
                cancellationToken.ThrowIfCancellationRequested();
                _turnOpen = false;
                await _sender.SendJsonAsync(new TurnUsage(promptTokens, 1, promptModality, "TEXT", vertex), ServerMessages.TurnComplete).ConfigureAwait(false);
            }

            EmulatorToolResponse response;
            try
            {
                response = await pending.WaitAsync(_options.ToolResponseTimeout, Time, cancellationToken).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                _toolCalls.Remove(call.Id);

                if (_turnOpen)
                {
                    _turnOpen = false;
                    await _sender.SendJsonAsync(new TurnUsage(promptTokens, 1, promptModality, "TEXT", vertex), ServerMessages.TurnComplete).ConfigureAwait(false);
                }

                return;
            }

            _turnOpen = true;
            replyText = $"Turn {turnNumber}: {call.Name} returned {response.ResponseJson}.";
            replyAudio = PcmAudio.SynthesizeSpeech(SpeechDuration(replyText));
        }
        else if (input.Audio is not null)
        {
            replyText = $"Turn {turnNumber}: I heard {TurnInput.FormatSeconds(input.AudioDuration)} seconds of audio.";
            replyAudio = PcmAudio.Resample(input.Audio, input.SampleRate, PcmAudio.OutputSampleRate);
        }
        else
        {
            replyText = $"Turn {turnNumber}: you said \"{input.UserText}\".";
            replyAudio = PcmAudio.SynthesizeSpeech(SpeechDuration(replyText));
        }

        if (_options.ReplyLatency > TimeSpan.Zero)
        {
            await Task.Delay(_options.ReplyLatency, Time, cancellationToken).ConfigureAwait(false);
        }

        await SpeakAsync(replyAudio, replyText, connectionTurn, cancellationToken).ConfigureAwait(false);

        cancellationToken.ThrowIfCancellationRequested();
        await _sender.SendJsonAsync("generationComplete", ServerMessages.Flag).ConfigureAwait(false);
        cancellationToken.ThrowIfCancellationRequested();
        _turnOpen = false;
        var responseTokens = Math.Max(1, (int)(replyAudio.Length / 2.0 / PcmAudio.OutputSampleRate * 25));
        await _sender.SendJsonAsync(new TurnUsage(promptTokens, responseTokens, promptModality, _setup!.TextModality ? "TEXT" : "AUDIO", vertex), ServerMessages.TurnComplete).ConfigureAwait(false);
        _record.RecordTurnCompleted();
        conversation.AddHistory($"model: {replyText}");
        await _resumption.SendHandleAsync().ConfigureAwait(false);
    }

    private async Task SpeakAsync(byte[] audio, string text, int connectionTurn, CancellationToken cancellationToken)
    {
        var chunkSamples = Math.Max(240, (int)(_options.OutputChunkDuration.TotalSeconds * PcmAudio.OutputSampleRate));
        var chunkBytes = chunkSamples * 2;
        var chunks = Math.Max(1, (audio.Length + chunkBytes - 1) / chunkBytes);
        var words = text.Split(' ');
        var faultAt = _faults.MidTurnFaultChunk(connectionTurn, chunks);
        var chunkDuration = TimeSpan.FromSeconds((double)chunkSamples / PcmAudio.OutputSampleRate);
        var start = Time.GetTimestamp();

        for (var i = 0; i < chunks; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (i == faultAt && _options.MidTurnFault is { } fault)
            {
                await FaultAsync(fault).ConfigureAwait(false);
                throw new OperationCanceledException();
            }

            var first = (int)((long)i * words.Length / chunks);
            var last = (int)((long)(i + 1) * words.Length / chunks);
            var fragment = last > first ? (first == 0 ? string.Empty : " ") + string.Join(' ', words, first, last - first) : null;
            if (fragment is not null && _setup!.OutputTranscription)
            {
                await _sender.SendJsonAsync((false, fragment, false), ServerMessages.Transcription).ConfigureAwait(false);
            }

            if (_setup!.TextModality)
            {
                if (fragment is not null)
                {
                    await _sender.SendJsonAsync(fragment, ServerMessages.ModelText).ConfigureAwait(false);
                }
            }
            else
            {
                var offset = i * chunkBytes;
                var length = Math.Min(chunkBytes, audio.Length - offset);
                if (length > 0 && !await _sender.SendAudioAsync(audio.AsMemory(offset, length)).ConfigureAwait(false))
                {
                    throw new OperationCanceledException();
                }
            }

            if (_options.RealTimePacing && !_setup!.TextModality)
            {
                // Stay one chunk ahead of playback, as the service streams slightly faster than real time.
                var due = chunkDuration * i;
                var wait = due - Time.GetElapsedTime(start);
                if (wait > TimeSpan.Zero)
                {
                    await Task.Delay(wait, Time, cancellationToken).ConfigureAwait(false);
                }
            }
        }
    }

    private static TimeSpan SpeechDuration(string text) => TimeSpan.FromMilliseconds(Math.Clamp(text.Length * 40, 400, 4000));

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
        await StartTurnAsync(TurnInput.None, plan, interruptFirst: true).ConfigureAwait(false);
        return plan.Id;
    }

    public async Task<IReadOnlyList<string>> CancelPendingToolCallsAsync()
    {
        await _turnGate.WaitAsync(_lifetime.Token).ConfigureAwait(false);
        try
        {
            if (!_toolCalls.Any)
            {
                return [];
            }

            await StopReplyLockedAsync().ConfigureAwait(false);
            var ids = _toolCalls.CancelAll();
            await _sender.SendJsonAsync(ids, ServerMessages.ToolCallCancellation).ConfigureAwait(false);
            if (_turnOpen)
            {
                _turnOpen = false;
                await _sender.SendJsonAsync(new TurnUsage(1, 0, "AUDIO", "AUDIO", Backend == GeminiBackend.VertexAI), ServerMessages.TurnComplete).ConfigureAwait(false);
            }

            return ids;
        }
        finally
        {
            _turnGate.Release();
        }
    }

    public Task GoAwayAsync(TimeSpan timeLeft) => _faults.GoAwayAsync(timeLeft);

    public Task FaultAsync(EmulatorFault fault) => _faults.InjectAsync(fault, _setup?.Model ?? string.Empty);

    /// <summary>Closes with a code and reason (once); the receive loop ends when the client answers, or is aborted after a timeout.</summary>
    public Task CloseAsync(WebSocketCloseStatus status, string reason) => _lifetime.CloseAsync(status, reason);

    private async Task ShutdownAsync()
    {
        await _lifetime.EndAsync().ConfigureAwait(false);
        var task = _replyTask;
        if (task is not null)
        {
            try
            {
                await task.ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException)
            {
            }
            catch (Exception ex)
            {
                EmulatorLog.Failed(_logger, _record.Id, ex);
            }
        }

        _toolCalls.CancelAll();
        _resumption.Release();

        if (_record.CloseStatus is null && !_record.Dropped && _socket.CloseStatus is { } status)
        {
            _record.RecordClose(status, _socket.CloseStatusDescription, dropped: false);
        }

        _turnDetector?.Dispose();
        EmulatorLog.Ended(_logger, _record.Id, _record.CloseStatus, _record.CloseDescription, _record.Dropped);
        _record.MarkEnded();
        _replyCts?.Dispose();
        _lifetime.Dispose();
    }
}
