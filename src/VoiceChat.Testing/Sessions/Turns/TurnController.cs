using VoiceChat.Testing.Sessions.Input;
using VoiceChat.Testing.Sessions.Resumption;
using VoiceChat.Testing.Sessions.Tools;
using VoiceChat.Testing.Wire;

namespace VoiceChat.Testing.Sessions.Turns;

/// <summary>
/// Who holds the floor: at most one <see cref="ModelReply"/> runs, and turn changes (a new turn, a
/// barge-in, a scripted tool-call cancellation) are serialised by one gate, so a reply is always
/// stopped and its turn closed before the next one starts.
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "The gate is only awaited, so it never creates a wait handle to dispose; scripted calls may still wait on it after the connection ends.")]
internal sealed class TurnController(
    SessionLifetime lifetime, PendingToolCalls toolCalls, SessionResumption resumption, LiveApiEmulatorOptions options, GeminiBackend backend)
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    private ModelReply? _reply;
    private Task? _replyTask;
    private CancellationTokenSource? _replyCts;

    /// <summary>Video frames received since the last user turn started; the next turn takes them.</summary>
    public VideoFrameLog Frames { get; } = new();

    /// <summary>Setup is complete: turns are spoken by <paramref name="reply"/>.</summary>
    public void Use(ModelReply reply) => _reply = reply;

    /// <summary>Starts the model's turn for <paramref name="input"/>, with <paramref name="forcedCall"/> or the call a rule plans.</summary>
    public async Task StartAsync(TurnInput input, ToolCallPlan? forcedCall, bool interruptFirst)
    {
        await _gate.WaitAsync(lifetime.Token).ConfigureAwait(false);
        try
        {
            if (lifetime.IsClosing)
            {
                return;
            }

            if (interruptFirst)
            {
                await InterruptLockedAsync().ConfigureAwait(false);
            }

            if (input != TurnInput.None)
            {
                input = input.WithFrames(Frames.Take());
            }

            StartReplyLocked(input, forcedCall ?? _reply!.PlanToolCall(input));
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>
    /// A non-blocking call's result arrived with <paramref name="scheduling"/>: <c>INTERRUPT</c> cuts the model off
    /// (<c>interrupted</c>) and speaks about it now, <c>WHEN_IDLE</c> speaks about it after the current reply,
    /// <c>SILENT</c> only puts it into context.
    /// </summary>
    public async Task DeliverToolResultAsync(EmulatorToolResponse result, string scheduling)
    {
        await _gate.WaitAsync(lifetime.Token).ConfigureAwait(false);
        try
        {
            if (lifetime.IsClosing || _reply is not { } reply)
            {
                return;
            }

            var input = TurnInput.ForToolResult(result);
            switch (scheduling)
            {
                case "SILENT":
                    reply.RememberSilently(result);
                    break;
                case "INTERRUPT":
                    await InterruptLockedAsync(cancelToolCalls: false).ConfigureAwait(false);
                    StartReplyLocked(input, call: null);
                    break;
                default:
                    if (_replyTask is { IsCompleted: false } speaking)
                    {
                        // After the current reply, under its token: a barge-in stops both.
                        var token = _replyCts!.Token;
                        _replyTask = Task.Run(async () =>
                        {
                            await speaking.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                            await reply.RunAsync(input, null, token).ConfigureAwait(false);
                        });
                    }
                    else
                    {
                        await StopReplyLockedAsync().ConfigureAwait(false);
                        StartReplyLocked(input, call: null);
                    }

                    break;
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Barge-in: stops the reply, cancels pending tool calls, and closes an open model turn with <c>interrupted</c>.</summary>
    public async Task InterruptAsync()
    {
        await _gate.WaitAsync(lifetime.Token).ConfigureAwait(false);
        try
        {
            await InterruptLockedAsync().ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Sends <c>toolCallCancellation</c> for every pending call (stopping the reply that waits for them); returns the ids.</summary>
    public async Task<IReadOnlyList<string>> CancelToolCallsAsync()
    {
        await _gate.WaitAsync(lifetime.Token).ConfigureAwait(false);
        try
        {
            if (!toolCalls.Any)
            {
                return [];
            }

            if (!toolCalls.AnyBlocking)
            {
                // Only non-blocking calls: the model is not waiting for them and goes on talking.
                var withdrawn = toolCalls.CancelAll();
                await lifetime.Sender.SendJsonAsync(withdrawn, ServerMessages.ToolCallCancellation).ConfigureAwait(false);
                return withdrawn;
            }

            await StopReplyLockedAsync().ConfigureAwait(false);
            var ids = toolCalls.CancelAll();
            await lifetime.Sender.SendJsonAsync(ids, ServerMessages.ToolCallCancellation).ConfigureAwait(false);
            if (_reply?.CloseOpenTurn() == true)
            {
                await lifetime.Sender.SendJsonAsync(new TurnUsage(1, 0, "AUDIO", "AUDIO", backend == GeminiBackend.VertexAI), ServerMessages.TurnComplete).ConfigureAwait(false);
            }

            return ids;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>The connection ended (its tokens are cancelled): waits for the reply to stop; rethrows what it failed with, other than cancellation.</summary>
    public async Task EndAsync()
    {
        var task = _replyTask;
        if (task is null)
        {
            return;
        }

        try
        {
            await task.ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException)
        {
        }
        finally
        {
            _replyCts?.Dispose();
        }
    }

    private void StartReplyLocked(TurnInput input, ToolCallPlan? call)
    {
        var reply = _reply!;
        var cts = CancellationTokenSource.CreateLinkedTokenSource(lifetime.Token, lifetime.Closing);
        _replyCts = cts;
        _replyTask = Task.Run(() => reply.RunAsync(input, call, cts.Token));
    }

    private async Task InterruptLockedAsync(bool cancelToolCalls = true)
    {
        if (_replyTask is null)
        {
            return;
        }

        await StopReplyLockedAsync().ConfigureAwait(false);
        if (cancelToolCalls)
        {
            // A non-blocking call outlives the model's turn: only cutting the model off withdraws it.
            var ids = toolCalls.CancelAll(blockingOnly: !_reply!.TurnOpen);
            if (ids.Count > 0 && options.CancelToolCallsOnBargeIn)
            {
                await lifetime.Sender.SendJsonAsync(ids, ServerMessages.ToolCallCancellation).ConfigureAwait(false);
            }
        }

        if (_reply!.CloseOpenTurn())
        {
            await lifetime.Sender.SendJsonAsync("interrupted", ServerMessages.Flag).ConfigureAwait(false);
            await lifetime.Sender.SendJsonAsync(new TurnUsage(1, 0, "AUDIO", "AUDIO", backend == GeminiBackend.VertexAI), ServerMessages.TurnComplete).ConfigureAwait(false);
            await resumption.SendHandleAsync().ConfigureAwait(false);
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
}
