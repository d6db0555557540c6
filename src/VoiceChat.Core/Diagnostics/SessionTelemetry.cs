using System.Diagnostics;
using VoiceChat.Live;
using VoiceChat.Protocol;
using VoiceChat.Sessions;

namespace VoiceChat.Diagnostics;

/// <summary>
/// One conversation's span and measurements. The span (<c>voicechat.session</c>) covers the
/// conversation, not one client connection: it starts when <c>start_session</c> is accepted, under the
/// WebSocket upgrade request's span, and ends when the conversation ends; a connection that resumes it
/// adds a link to its own upgrade request. The model connection's spans and the tool calls' spans are
/// its children.
/// </summary>
/// <remarks>
/// First-audio latency: the end of the user's turn is the relay's last sign of it before the model
/// answers: <c>activity_end</c>, <c>audio_stream_end</c> or a text turn the client sent, else (automatic
/// speech detection, where only the model knows) the last transcript of the user's speech the model sent.
/// The latency runs from there to the first audio of the reply reaching the relay.
/// </remarks>
internal sealed class SessionTelemetry
{
    private const int OutputBytesPerSecond = 24000 * 2;

    private readonly long _started = Stopwatch.GetTimestamp();
    private readonly double _inputBytesPerSecond;
    private readonly string? _model;
    private VoiceSessionStop _endReason;
    private string? _errorCode;
    private int _ended;
    private long _turnEnded;
    private bool _turnEndExplicit;
    private string? _turnSignal;
    private bool _modelSpeaking;
    private long _inputTokens;
    private long _outputTokens;
    private long _bytesToModel;
    private long _bytesToClient;

    private SessionTelemetry(Activity? activity, int inputSampleRate, string? model)
    {
        Activity = activity;
        _inputBytesPerSecond = inputSampleRate * 2.0;
        _model = model;
    }

    /// <summary>The session's span; null when nothing listens.</summary>
    public Activity? Activity { get; }

    /// <summary>
    /// Starts the session's span under the current one (the upgrade request's) and makes it current, so
    /// that the model connection opened next and the tasks it starts are its children.
    /// </summary>
    public static SessionTelemetry Start(string sessionId, string userId, bool userVerified, int inputSampleRate, string? model, bool takenOver)
    {
        var activity = VoiceChatTelemetry.Source.StartActivity("voicechat.session", ActivityKind.Server);
        if (activity is not null)
        {
            activity.SetTag("session.id", sessionId);
            if (userVerified)
            {
                // Only an authenticated id: what an anonymous client claims is not who it is.
                activity.SetTag("enduser.id", userId);
            }

            activity.SetTag("voicechat.user.verified", userVerified);
            activity.SetTag("voicechat.session.taken_over", takenOver);
            activity.SetTag("gen_ai.provider.name", "gcp.gemini");
            activity.SetTag("gen_ai.request.model", model);
        }

        VoiceChatTelemetry.SessionsStarted.Add(1, new KeyValuePair<string, object?>("voicechat.session.taken_over", takenOver));
        VoiceChatTelemetry.ActiveSessions.Add(1);
        return new SessionTelemetry(activity, inputSampleRate, model);
    }

    /// <summary>Starts <paramref name="run"/> with the session's span current, so that what it logs and starts belongs to the session.</summary>
    public Task RunUnder(Func<Task> run)
    {
        var previous = System.Diagnostics.Activity.Current;
        if (Activity is not null)
        {
            System.Diagnostics.Activity.Current = Activity;
        }

        try
        {
            return run();
        }
        finally
        {
            System.Diagnostics.Activity.Current = previous;
        }
    }

    /// <summary>A new client connection resumed the conversation: its upgrade request is linked.</summary>
    public void Resumed()
    {
        if (Activity is { } activity && System.Diagnostics.Activity.Current is { } request && request != activity)
        {
            activity.AddLink(new ActivityLink(request.Context));
            activity.AddEvent(new ActivityEvent("voicechat.session.resumed"));
        }
    }

    /// <summary>Why the conversation ends; the first reason given wins.</summary>
    public void Ending(VoiceSessionStop reason, string? errorCode)
    {
        if (_endReason == VoiceSessionStop.None)
        {
            _endReason = reason;
            _errorCode = errorCode;
        }
    }

    /// <summary>The conversation ended (once): the span ends, the session is counted.</summary>
    public void Ended(VoiceSessionStop fallback)
    {
        if (Interlocked.Exchange(ref _ended, 1) != 0)
        {
            return;
        }

        Ending(fallback, null);
        var reason = ReasonName(_endReason);
        var tags = new TagList { { "voicechat.session.end_reason", reason } };
        if (_errorCode is not null)
        {
            tags.Add("error.type", _errorCode);
        }

        CountAudio();
        VoiceChatTelemetry.ActiveSessions.Add(-1);
        VoiceChatTelemetry.SessionsEnded.Add(1, tags);
        VoiceChatTelemetry.SessionDuration.Record(Stopwatch.GetElapsedTime(_started).TotalSeconds, tags);
        if (Activity is { } activity)
        {
            activity.SetTag("voicechat.session.end_reason", reason);
            activity.SetTag("gen_ai.usage.input_tokens", Interlocked.Read(ref _inputTokens));
            activity.SetTag("gen_ai.usage.output_tokens", Interlocked.Read(ref _outputTokens));
            VoiceChatTelemetry.Finish(activity, _errorCode);
        }
    }

    /// <summary>Client input reached the model: audio is counted; an explicit end of the user's turn starts the latency clock.</summary>
    public void InputForwarded(ClientMessageKind kind, int audioBytes)
    {
        switch (kind)
        {
            case ClientMessageKind.Audio:
                Interlocked.Add(ref _bytesToModel, audioBytes);
                break;
            case ClientMessageKind.ActivityEnd:
                UserTurnEnded("activity_end", explicitSignal: true);
                break;
            case ClientMessageKind.AudioStreamEnd:
                UserTurnEnded("audio_stream_end", explicitSignal: true);
                break;
            case ClientMessageKind.Text:
                UserTurnEnded("text", explicitSignal: true);
                break;
        }
    }

    /// <summary>The model sent a transcript of the user's speech: the user was speaking until about now.</summary>
    public void InputTranscript()
    {
        if (!Volatile.Read(ref _turnEndExplicit))
        {
            UserTurnEnded("input_transcript", explicitSignal: false);
        }
    }

    /// <summary>A model audio frame reached the relay: counted, and the first of a reply ends the latency clock.</summary>
    public void ModelAudio(int bytes)
    {
        Interlocked.Add(ref _bytesToClient, bytes);
        if (_modelSpeaking)
        {
            return;
        }

        _modelSpeaking = true;
        var turnEnded = Interlocked.Exchange(ref _turnEnded, 0);
        Volatile.Write(ref _turnEndExplicit, false);
        if (turnEnded != 0)
        {
            VoiceChatTelemetry.FirstAudioLatency.Record(
                Stopwatch.GetElapsedTime(turnEnded).TotalSeconds,
                new KeyValuePair<string, object?>("voicechat.turn.end_signal", _turnSignal));
        }
    }

    /// <summary>The model's reply ended (complete or interrupted): the next audio starts a new reply, and the audio so far is counted.</summary>
    public void ReplyEnded()
    {
        _modelSpeaking = false;
        CountAudio();
    }

    /// <summary>The model's token count for a reply (<c>usageMetadata</c>).</summary>
    public void Usage(LiveUsage usage)
    {
        Interlocked.Add(ref _inputTokens, usage.PromptTokens);
        Interlocked.Add(ref _outputTokens, usage.ResponseTokens);
        if (!VoiceChatTelemetry.TokenUsage.Enabled)
        {
            return;
        }

        var tags = new TagList
        {
            { "gen_ai.provider.name", "gcp.gemini" },
            { "gen_ai.operation.name", "realtime" },
            { "gen_ai.request.model", _model },
            { "gen_ai.token.type", "input" },
        };
        VoiceChatTelemetry.TokenUsage.Record(usage.PromptTokens, tags);
        tags[3] = new("gen_ai.token.type", "output");
        VoiceChatTelemetry.TokenUsage.Record(usage.ResponseTokens, tags);
    }

    /// <summary>A timestamp for <see cref="FrameRelayed"/>, taken only when the latency instrument is listened to.</summary>
    public static long FrameTaken() => VoiceChatTelemetry.RelayLatency.Enabled ? Stopwatch.GetTimestamp() : 0;

    /// <summary>A model frame taken at <paramref name="taken"/> was written to the client.</summary>
    public static void FrameRelayed(long taken)
    {
        if (taken != 0)
        {
            VoiceChatTelemetry.RelayLatency.Record(Stopwatch.GetElapsedTime(taken).TotalSeconds);
        }
    }

    /// <summary>
    /// Adds the audio relayed since the last count to the byte and duration counters: once a reply and
    /// at the end, not per frame, which keeps the instruments off the audio path.
    /// </summary>
    private void CountAudio()
    {
        var toModel = Interlocked.Exchange(ref _bytesToModel, 0);
        var toClient = Interlocked.Exchange(ref _bytesToClient, 0);
        if (toModel > 0)
        {
            VoiceChatTelemetry.Bytes.Add(toModel, VoiceChatTelemetry.ToModel);
            VoiceChatTelemetry.AudioDuration.Add(toModel / _inputBytesPerSecond, VoiceChatTelemetry.ToModel);
        }

        if (toClient > 0)
        {
            VoiceChatTelemetry.Bytes.Add(toClient, VoiceChatTelemetry.ToClient);
            VoiceChatTelemetry.AudioDuration.Add(toClient / (double)OutputBytesPerSecond, VoiceChatTelemetry.ToClient);
        }
    }

    private void UserTurnEnded(string signal, bool explicitSignal)
    {
        if (_modelSpeaking && !explicitSignal)
        {
            return; // what the user said before this reply began was counted already
        }

        _turnSignal = signal;
        Volatile.Write(ref _turnEndExplicit, explicitSignal);
        Volatile.Write(ref _turnEnded, Stopwatch.GetTimestamp());
    }

    private static string ReasonName(VoiceSessionStop reason) => reason switch
    {
        VoiceSessionStop.ClientEnded => "client_ended",
        VoiceSessionStop.ClientClosed => "client_closed",
        VoiceSessionStop.Fatal => "error",
        VoiceSessionStop.ShuttingDown => "server_shutting_down",
        VoiceSessionStop.UpstreamEnded => "upstream_ended",
        VoiceSessionStop.Abandoned => "abandoned",
        _ => "none",
    };
}
