using System.Text.Json;
using static VoiceChat.Testing.Wire.ProtoJson;

namespace VoiceChat.Testing.Sessions.Tools;

/// <summary>
/// The tool calls of one connection that wait for the client's <c>toolResponse</c>. The reply task adds
/// and awaits them, the receive loop answers them, and a barge-in or a scripted cancellation cancels them.
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

    /// <summary>Registers <paramref name="call"/> as sent; the returned task completes with its response, or is cancelled.</summary>
    public Task<EmulatorToolResponse> Add(ToolCallPlan call)
    {
        var pending = new PendingToolCall(call.Name);
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

    /// <summary>Cancels every pending call; returns their ids.</summary>
    public List<string> CancelAll()
    {
        lock (_gate)
        {
            var ids = _byId.Keys.ToList();
            foreach (var pending in _byId.Values)
            {
                pending.Response.TrySetCanceled();
            }

            _byId.Clear();
            return ids;
        }
    }

    /// <summary>Reads a <c>toolResponse</c> message, records each response, and completes the calls they answer.</summary>
    public void Answer(ReadOnlyMemory<byte> message, EmulatorConnection record)
    {
        using var document = JsonDocument.Parse(message);
        var body = document.RootElement.EnumerateObject().First().Value;
        if (!TryGet(body, "functionResponses", out var responses) || responses.ValueKind != JsonValueKind.Array)
        {
            return;
        }

        foreach (var response in responses.EnumerateArray())
        {
            var id = TryGet(response, "id", out var i) && i.ValueKind == JsonValueKind.String ? i.GetString() : null;
            var name = TryGet(response, "name", out var n) && n.ValueKind == JsonValueKind.String ? n.GetString() : null;
            var json = TryGet(response, "response", out var r) ? r.GetRawText() : "{}";
            var pending = Take(id, name);
            var answer = new EmulatorToolResponse(id, name, json, pending is not null);
            record.RecordToolResponse(answer);
            pending?.Response.TrySetResult(answer);
        }
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

    private sealed class PendingToolCall(string name)
    {
        public string Name { get; } = name;

        public TaskCompletionSource<EmulatorToolResponse> Response { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
