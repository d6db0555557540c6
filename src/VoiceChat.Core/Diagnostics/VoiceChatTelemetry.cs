using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace VoiceChat.Diagnostics;

/// <summary>
/// The relay's one <see cref="ActivitySource"/> and one <see cref="Meter"/>, both named <c>VoiceChat</c>,
/// and their instruments. Names and attributes follow OpenTelemetry's semantic conventions where one
/// exists (<c>error.type</c>, <c>session.id</c>, <c>enduser.id</c>, <c>gen_ai.*</c>). Instruments on the
/// audio path record through cached tags only, so a frame allocates nothing, listened to or not.
/// </summary>
internal static class VoiceChatTelemetry
{
    public const string Name = "VoiceChat";

    public static readonly ActivitySource Source = new(Name);

    public static readonly Meter Meter = new(Name);

    public static readonly UpDownCounter<long> ActiveSessions = Meter.CreateUpDownCounter<long>(
        "voicechat.sessions.active", "{session}", "Conversations open in this process, attached or waiting for a resume.");

    public static readonly Counter<long> SessionsStarted = Meter.CreateCounter<long>(
        "voicechat.sessions.started", "{session}", "Conversations started in this process (new, or taken over from another instance).");

    public static readonly Counter<long> SessionsEnded = Meter.CreateCounter<long>(
        "voicechat.sessions.ended", "{session}", "Conversations ended, by reason and error code.");

    public static readonly Histogram<double> SessionDuration = Meter.CreateHistogram<double>(
        "voicechat.session.duration", "s", "How long conversations lasted in this process, by end reason.");

    public static readonly Histogram<double> FirstAudioLatency = Meter.CreateHistogram<double>(
        "voicechat.turn.first_audio.latency", "s", "From the end of the user's turn to the first audio of the model's reply, as the relay sees them.");

    public static readonly Histogram<double> RelayLatency = Meter.CreateHistogram<double>(
        "voicechat.relay.frame.latency", "s", "From the relay taking a model audio frame to the frame written to the client.");

    public static readonly Counter<long> Bytes = Meter.CreateCounter<long>(
        "voicechat.relay.bytes", "By", "Audio bytes relayed, by direction; counted at the end of each model reply and of the session.");

    public static readonly Counter<double> AudioDuration = Meter.CreateCounter<double>(
        "voicechat.relay.audio.duration", "s", "Seconds of audio relayed, by direction.");

    public static readonly Histogram<long> TokenUsage = Meter.CreateHistogram<long>(
        "gen_ai.client.token.usage", "{token}", "Tokens the model reported (usageMetadata), by token type.");

    public static readonly Counter<long> UpstreamReconnects = Meter.CreateCounter<long>(
        "voicechat.upstream.reconnects", "{connection}", "Model connections replaced during a session (drops and go-away rotations), by reason and outcome.");

    public static readonly Counter<long> ToolCalls = Meter.CreateCounter<long>(
        "voicechat.tool.calls", "{call}", "Tool calls run for the model, by tool and outcome.");

    public static readonly Counter<long> SessionEventsDropped = Meter.CreateCounter<long>(
        "voicechat.session.events.dropped", "{event}", "Session events dropped because the application's handler fell behind its queue.");

    // Cached tags: recording on the audio path allocates nothing.
    public static readonly KeyValuePair<string, object?> ToModel = new("voicechat.direction", "to_model");
    public static readonly KeyValuePair<string, object?> ToClient = new("voicechat.direction", "to_client");

    /// <summary>Counts session events the application's bounded queue dropped.</summary>
    public static void SessionEventsWereDropped(long count, string? eventType = null)
    {
        if (eventType is null)
        {
            SessionEventsDropped.Add(count);
        }
        else
        {
            SessionEventsDropped.Add(count, new KeyValuePair<string, object?>("voicechat.event.type", eventType));
        }
    }

    /// <summary>Counts one model connection replaced: <c>go_away</c> rotations and resumes after a loss.</summary>
    public static void UpstreamReplaced(string reason, string outcome) =>
        UpstreamReconnects.Add(1, new KeyValuePair<string, object?>("voicechat.reconnect.reason", reason), new KeyValuePair<string, object?>("voicechat.reconnect.outcome", outcome));

    /// <summary>
    /// A span for one model connection step (<c>connect</c>, <c>resume</c>) under <paramref name="parent"/>
    /// (the session's span, captured where the connection was made: a resume runs on whichever task saw the loss).
    /// </summary>
    public static Activity? StartModelSpan(string operation, string sessionId, ActivityContext parent = default)
    {
        var activity = Source.StartActivity("voicechat.model." + operation, ActivityKind.Client, parent);
        activity?.SetTag("session.id", sessionId);
        activity?.SetTag("gen_ai.provider.name", "gcp.gemini");
        return activity;
    }

    /// <summary>The current span's context, captured as the parent of spans started later on other tasks.</summary>
    public static ActivityContext CurrentContext => Activity.Current?.Context ?? default;

    /// <summary>Ends a span, with <c>error.type</c> and an error status when <paramref name="errorType"/> is set.</summary>
    public static void Finish(Activity? activity, string? errorType, string? description = null)
    {
        if (activity is null)
        {
            return;
        }

        if (errorType is not null)
        {
            activity.SetTag("error.type", errorType);
            activity.SetStatus(ActivityStatusCode.Error, description);
        }

        activity.Dispose();
    }

    /// <summary>Counts one tool call and ends its span.</summary>
    public static void ToolCallEnded(Activity? activity, string toolName, string status)
    {
        ToolCalls.Add(1, new KeyValuePair<string, object?>("gen_ai.tool.name", toolName), new KeyValuePair<string, object?>("voicechat.tool.status", status));
        Finish(activity, status == "failed" ? "tool_failed" : null);
    }

    /// <summary>A span for one tool call (<c>execute_tool</c> in OpenTelemetry's GenAI conventions).</summary>
    public static Activity? StartToolSpan(ActivityContext parent, string sessionId, string toolName, string callId)
    {
        var activity = Source.StartActivity("execute_tool " + toolName, ActivityKind.Internal, parent);
        if (activity is not null)
        {
            activity.SetTag("gen_ai.operation.name", "execute_tool");
            activity.SetTag("gen_ai.tool.name", toolName);
            activity.SetTag("gen_ai.tool.call.id", callId);
            activity.SetTag("session.id", sessionId);
        }

        return activity;
    }
}
