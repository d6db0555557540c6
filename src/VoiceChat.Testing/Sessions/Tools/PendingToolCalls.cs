using System.Text.Json;
using static VoiceChat.Testing.Wire.ProtoJson;

namespace VoiceChat.Testing.Sessions.Tools;

/// <summary>
/// The tool calls of one connection that wait for the client's <c>toolResponse</c>. The reply task adds
/// them and awaits a blocking one, the receive loop answers them (a non-blocking call's answer is handed
/// on with its <c>scheduling</c>), and a barge-in or a scripted cancellation cancels them.
/// </summary>
internal sealed class PendingToolCalls
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, PendingToolCall> _byId = new(StringComparer.Ordinal);

    public bool Any
    {
        get
        {
            lock (_gate)
            {
                return _byId.Count > 0;
            }
        }
    }

    private static readonly string[] SchedulingNames = ["SCHEDULING_UNSPECIFIED", "SILENT", "WHEN_IDLE", "INTERRUPT"];

    /// <summary>Whether a call the model waits for is pending (a blocking one).</summary>
    public bool AnyBlocking
    {
        get
        {
            lock (_gate)
            {
                return _byId.Values.Any(p => !p.NonBlocking);
            }
        }
    }

    /// <summary>Registers <paramref name="call"/> as sent; the returned task completes with its response, or is cancelled.</summary>
    public Task<EmulatorToolResponse> Add(ToolCallPlan call, bool nonBlocking)
    {
        var pending = new PendingToolCall(call.Name, nonBlocking);
        lock (_gate)
        {
            _byId[call.Id] = pending;
        }

        return pending.Response.Task;
    }

    /// <summary>Forgets a call that will not be answered (its response timed out).</summary>
    public void Remove(string id)
    {
        lock (_gate)
        {
            _byId.Remove(id);
        }
    }

    /// <summary>Cancels every pending call (<paramref name="blockingOnly"/>: only those the model waits for); returns their ids.</summary>
    public List<string> CancelAll(bool blockingOnly = false)
    {
        lock (_gate)
        {
            var cancelled = _byId.Where(p => !blockingOnly || !p.Value.NonBlocking).ToList();
            foreach (var (id, pending) in cancelled)
            {
                pending.Response.TrySetCanceled();
                _byId.Remove(id);
            }

            return cancelled.ConvertAll(p => p.Key);
        }
    }

    /// <summary>
    /// Reads a <c>toolResponse</c> message, records each response, and completes the calls they answer; returns the
    /// answers of non-blocking calls with the scheduling the model follows (<c>WHEN_IDLE</c> unless they say otherwise).
    /// A <c>scheduling</c> that is not one of the enum's values refuses the whole message, as the service's JSON parsing
    /// does (<paramref name="refusal"/> is the close reason); inside <c>response</c> it is free JSON, and an unknown value
    /// there is the default. On a blocking call's answer it is ignored, as Google documents.
    /// </summary>
    public List<(EmulatorToolResponse Answer, string Scheduling)> Answer(ReadOnlyMemory<byte> message, EmulatorConnection record, out string? refusal)
    {
        refusal = null;
        var nonBlockingAnswers = new List<(EmulatorToolResponse, string)>();
        using var document = JsonDocument.Parse(message);
        var body = document.RootElement.EnumerateObject().First().Value;
        if (!TryGet(body, "functionResponses", out var responses) || responses.ValueKind != JsonValueKind.Array)
        {
            return nonBlockingAnswers;
        }

        var index = 0;
        foreach (var response in responses.EnumerateArray())
        {
            if (TryGet(response, "scheduling", out var field) && ProtoEnum(field, SchedulingNames) < 0)
            {
                refusal = EmulatorCloseReasons.Truncate(
                    $"Invalid value at 'tool_response.function_responses[{index}].scheduling' (type.googleapis.com/google.ai.generativelanguage.v1beta.FunctionResponse.Scheduling), {field.GetRawText()}");
                return nonBlockingAnswers;
            }

            index++;
        }

        foreach (var response in responses.EnumerateArray())
        {
            var id = TryGet(response, "id", out var i) && i.ValueKind == JsonValueKind.String ? i.GetString() : null;
            var name = TryGet(response, "name", out var n) && n.ValueKind == JsonValueKind.String ? n.GetString() : null;
            var json = TryGet(response, "response", out var r) ? r.GetRawText() : "{}";
            var scheduling = SchedulingOf(response, r);
            var pending = Take(id, name);
            var answer = new EmulatorToolResponse(id, name, json, pending is not null) { Scheduling = scheduling };
            record.RecordToolResponse(answer);
            pending?.Response.TrySetResult(answer);
            if (pending is { NonBlocking: true })
            {
                nonBlockingAnswers.Add((answer, scheduling is null or "SCHEDULING_UNSPECIFIED" ? "WHEN_IDLE" : scheduling));
            }
        }

        return nonBlockingAnswers;
    }

    // The FunctionResponse's own field, else the one the Live API guide puts inside the response object.
    private static string? SchedulingOf(JsonElement functionResponse, JsonElement response)
    {
        if (TryGet(functionResponse, "scheduling", out var field))
        {
            return SchedulingNames[ProtoEnum(field, SchedulingNames)];
        }

        return TryGet(response, "scheduling", out var inner) && ProtoEnum(inner, SchedulingNames) is var value and > 0 && inner.ValueKind == JsonValueKind.String
            ? SchedulingNames[value]
            : null;
    }

    private PendingToolCall? Take(string? id, string? name)
    {
        lock (_gate)
        {
            PendingToolCall? pending = null;
            if (id is not null)
            {
                _byId.Remove(id, out pending);
            }
            else if (name is not null)
            {
                // Vertex tolerates a missing id: match the single pending call of that name.
                var match = _byId.Where(p => p.Value.Name == name).ToList();
                if (match.Count == 1)
                {
                    pending = match[0].Value;
                    _byId.Remove(match[0].Key);
                }
            }

            return pending;
        }
    }

    private sealed class PendingToolCall(string name, bool nonBlocking)
    {
        public string Name { get; } = name;

        public bool NonBlocking { get; } = nonBlocking;

        public TaskCompletionSource<EmulatorToolResponse> Response { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
