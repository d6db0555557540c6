using VoiceChat.Testing.Audio;
using VoiceChat.Testing.Sessions.Faults;
using VoiceChat.Testing.Sessions.Input;
using VoiceChat.Testing.Sessions.Resumption;
using VoiceChat.Testing.Sessions.Setup;
using VoiceChat.Testing.Sessions.Tools;
using VoiceChat.Testing.Wire;

namespace VoiceChat.Testing.Sessions.Turns;

/// <summary>
/// The emulated model's side of a turn, as <c>setup</c> configured it: the input transcription of what
/// it heard, a tool call and the wait for its response, then the reply (an echo of the audio, or speech
/// that names the turn) in paced chunks with its output transcription, <c>generationComplete</c>,
/// <c>turnComplete</c> with usage and a new resumption handle. A call of a <c>NON_BLOCKING</c> function is
/// not waited for: the same turn goes on with speech that says the call was made, and its result comes
/// later as a turn of its own (or silently into context, mentioned by the next reply).
/// One reply runs at a time (see <see cref="TurnController"/>).
/// </summary>
internal sealed class ModelReply(
    LiveApiEmulator emulator,
    SessionSetup setup,
    EmulatorConnection record,
    ServerMessageSender sender,
    PendingToolCalls toolCalls,
    SessionResumption resumption,
    FaultInjector faults)
{
    private readonly System.Collections.Concurrent.ConcurrentQueue<EmulatorToolResponse> _silentResults = new();
    private volatile bool _turnOpen;
    private int _connectionTurns;

    private LiveApiEmulatorOptions Options => emulator.Options;

    private TimeProvider Time => Options.TimeProvider;

    /// <summary>Plans the tool call a user turn makes: a rule the test added or scripted, matched against what the user said.</summary>
    public ToolCallPlan? PlanToolCall(TurnInput input) =>
        ToolCallPlan.ForRule(emulator.TakeToolCall(input.UserText), setup.Functions, record.Backend);

    /// <summary>Whether a model turn is open (the model is speaking, or a blocking call holds the turn).</summary>
    public bool TurnOpen => _turnOpen;

    /// <summary>A <c>SILENT</c> result: into the context without a word; the next reply mentions it.</summary>
    public void RememberSilently(EmulatorToolResponse result)
    {
        resumption.Conversation?.AddHistory($"tool: {result.Name} returned {result.ResponseJson}");
        _silentResults.Enqueue(result);
    }

    /// <summary>Marks the open model turn as closed (by an interruption or a cancellation); false when none is open.</summary>
    public bool CloseOpenTurn()
    {
        if (!_turnOpen)
        {
            return false;
        }

        _turnOpen = false;
        return true;
    }

    /// <summary>Speaks the model's turn to its end; cancelled by a barge-in or a close.</summary>
    public async Task RunAsync(TurnInput input, ToolCallPlan? call, CancellationToken cancellationToken)
    {
        var conversation = resumption.Conversation!;
        var turnNumber = conversation.StartTurn();

        // Silent results this reply knows: those that came before it started (never one of its own call).
        var known = string.Empty;
        while (_silentResults.TryDequeue(out var silent))
        {
            known += $" I also know that {silent.Name} returned {silent.ResponseJson}.";
        }

        var connectionTurn = Interlocked.Increment(ref _connectionTurns);
        var vertex = record.Backend == GeminiBackend.VertexAI;
        _turnOpen = true;
        await resumption.TurnStartedAsync().ConfigureAwait(false);

        if (input.Audio is not null && setup.InputTranscription)
        {
            var seconds = TurnInput.FormatSeconds(input.AudioDuration);
            string[] fragments = ["[heard", $" {seconds} s", " of audio]"];
            for (var i = 0; i < fragments.Length; i++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                await sender.SendJsonAsync((true, fragments[i], i == fragments.Length - 1), ServerMessages.Transcription).ConfigureAwait(false);
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
        if (call is not null && setup.Functions.Any(f => f.NonBlocking && f.Name == call.Name))
        {
            // NON_BLOCKING: the call goes out and the model keeps talking in the same turn.
            _ = toolCalls.Add(call, nonBlocking: true);
            record.RecordToolCall(call.Id);
            await sender.SendJsonAsync((call.Id, call.Name, call.ArgumentsJson), ServerMessages.ToolCall).ConfigureAwait(false);
            replyText = $"Turn {turnNumber}: I asked {call.Name} and will tell you what it says; meanwhile, let us go on talking.";
            replyAudio = PcmAudio.SynthesizeSpeech(SpeechDuration(replyText));
        }
        else if (input.ToolResult is { } result)
        {
            replyText = $"Turn {turnNumber}: {result.Name} returned {result.ResponseJson}.";
            replyAudio = PcmAudio.SynthesizeSpeech(SpeechDuration(replyText));
        }
        else if (call is not null)
        {
            var pending = toolCalls.Add(call, nonBlocking: false);

            record.RecordToolCall(call.Id);
            await sender.SendJsonAsync((call.Id, call.Name, call.ArgumentsJson), ServerMessages.ToolCall).ConfigureAwait(false);
            if (!setup.IsGemini3)
            {
                // 2.x completes the turn after a tool call; 3.x withholds turnComplete until the response.
                cancellationToken.ThrowIfCancellationRequested();
                _turnOpen = false;
                await sender.SendJsonAsync(new TurnUsage(promptTokens, 1, promptModality, "TEXT", vertex), ServerMessages.TurnComplete).ConfigureAwait(false);
            }

            EmulatorToolResponse response;
            try
            {
                response = await pending.WaitAsync(Options.ToolResponseTimeout, Time, cancellationToken).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                toolCalls.Remove(call.Id);

                if (_turnOpen)
                {
                    _turnOpen = false;
                    await sender.SendJsonAsync(new TurnUsage(promptTokens, 1, promptModality, "TEXT", vertex), ServerMessages.TurnComplete).ConfigureAwait(false);
                }

                return;
            }

            _turnOpen = true;
            replyText = $"Turn {turnNumber}: {call.Name} returned {response.ResponseJson}.";
            replyAudio = PcmAudio.SynthesizeSpeech(SpeechDuration(replyText));
        }
        else if (input.Audio is not null)
        {
            replyText = $"Turn {turnNumber}: I heard {TurnInput.FormatSeconds(input.AudioDuration)} seconds of audio.{VideoFrameLog.Describe(input.Frames)}";
            replyAudio = PcmAudio.Resample(input.Audio, input.SampleRate, PcmAudio.OutputSampleRate);
        }
        else
        {
            replyText = $"Turn {turnNumber}: you said \"{input.UserText}\".{VideoFrameLog.Describe(input.Frames)}";
            replyAudio = PcmAudio.SynthesizeSpeech(SpeechDuration(replyText));
        }

        replyText += known;
        if (Options.ReplyLatency > TimeSpan.Zero)
        {
            await Task.Delay(Options.ReplyLatency, Time, cancellationToken).ConfigureAwait(false);
        }

        await SpeakAsync(replyAudio, replyText, connectionTurn, cancellationToken).ConfigureAwait(false);

        cancellationToken.ThrowIfCancellationRequested();
        await sender.SendJsonAsync("generationComplete", ServerMessages.Flag).ConfigureAwait(false);
        cancellationToken.ThrowIfCancellationRequested();
        _turnOpen = false;
        var responseTokens = Math.Max(1, (int)(replyAudio.Length / 2.0 / PcmAudio.OutputSampleRate * 25));
        await sender.SendJsonAsync(new TurnUsage(promptTokens, responseTokens, promptModality, setup.TextModality ? "TEXT" : "AUDIO", vertex), ServerMessages.TurnComplete).ConfigureAwait(false);
        record.RecordTurnCompleted();
        conversation.AddHistory($"model: {replyText}");
        await resumption.SendHandleAsync().ConfigureAwait(false);
    }

    private async Task SpeakAsync(byte[] audio, string text, int connectionTurn, CancellationToken cancellationToken)
    {
        var chunkSamples = Math.Max(240, (int)(Options.OutputChunkDuration.TotalSeconds * PcmAudio.OutputSampleRate));
        var chunkBytes = chunkSamples * 2;
        var chunks = Math.Max(1, (audio.Length + chunkBytes - 1) / chunkBytes);
        var words = text.Split(' ');
        var faultAt = faults.MidTurnFaultChunk(connectionTurn, chunks);
        var chunkDuration = TimeSpan.FromSeconds((double)chunkSamples / PcmAudio.OutputSampleRate);
        var start = Time.GetTimestamp();

        for (var i = 0; i < chunks; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (i == faultAt && Options.MidTurnFault is { } fault)
            {
                await faults.InjectAsync(fault, setup.Model).ConfigureAwait(false);
                throw new OperationCanceledException();
            }

            var first = (int)((long)i * words.Length / chunks);
            var last = (int)((long)(i + 1) * words.Length / chunks);
            var fragment = last > first ? (first == 0 ? string.Empty : " ") + string.Join(' ', words, first, last - first) : null;
            if (fragment is not null && setup.OutputTranscription)
            {
                await sender.SendJsonAsync((false, fragment, false), ServerMessages.Transcription).ConfigureAwait(false);
            }

            if (setup.TextModality)
            {
                if (fragment is not null)
                {
                    await sender.SendJsonAsync(fragment, ServerMessages.ModelText).ConfigureAwait(false);
                }
            }
            else
            {
                var offset = i * chunkBytes;
                var length = Math.Min(chunkBytes, audio.Length - offset);
                if (length > 0 && !await sender.SendAudioAsync(audio.AsMemory(offset, length)).ConfigureAwait(false))
                {
                    throw new OperationCanceledException();
                }
            }

            if (Options.RealTimePacing && !setup.TextModality)
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
}
