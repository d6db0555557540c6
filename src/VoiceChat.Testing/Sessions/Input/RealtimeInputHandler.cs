using System.Buffers;
using System.Buffers.Text;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using VoiceChat.Testing.Audio;
using VoiceChat.Testing.Sessions.Setup;
using VoiceChat.Testing.Sessions.Turns;
using VoiceChat.Testing.Wire;
using static VoiceChat.Testing.Wire.ProtoJson;

namespace VoiceChat.Testing.Sessions.Input;

/// <summary>
/// Acts on <c>realtimeInput</c>: audio (echoed, or decoded into the <see cref="TurnDetector"/>), video
/// frames (kept for the next turn's reply to name), text turns, and the activity signals, which are only allowed with automatic activity detection disabled.
/// </summary>
internal sealed class RealtimeInputHandler(
    SessionSetup setup, SessionLifetime lifetime, TurnController turns, EmulatorConnection record, LiveApiEmulatorOptions options) : IDisposable
{
    private readonly TurnDetector _detector = new(options, setup.ManualActivity, setup.SilenceDuration);

    /// <summary>Audio or text has arrived: <c>clientContent</c> can no longer seed history.</summary>
    public bool Started { get; private set; }

    /// <summary>Acts on one message's fields, read by <see cref="ClientMessageReader"/>; <paramref name="message"/> is its JSON, for the legacy <c>mediaChunks</c>.</summary>
    public async Task HandleAsync(ReadOnlyMemory<byte> message, RealtimeInput input)
    {
        if (input.MediaChunks)
        {
            if (setup.IsGemini3)
            {
                await lifetime.CloseAsync(WebSocketCloseStatus.InvalidPayloadData, EmulatorCloseReasons.MediaChunksDeprecated).ConfigureAwait(false);
                return;
            }

            await HandleMediaChunksAsync(message).ConfigureAwait(false);
        }

        if (input.HasAudio)
        {
            Started = true;
            if (options.EchoAudio)
            {
                var length = input.Data.Length;
                var padding = length > 0 && input.Data.Span[length - 1] == '=' ? (length > 1 && input.Data.Span[length - 2] == '=' ? 2 : 1) : 0;
                record.RecordAudioCount((length / 4 * 3) - padding);
                await lifetime.Sender.SendAudioBase64Async(input.Data).ConfigureAwait(false);
                return;
            }

            await HandleAudioBase64Async(input.Data, input.Rate).ConfigureAwait(false);
        }

        if (input.HasVideo)
        {
            if (VideoFrameLog.Read(input.VideoMimeType, input.VideoData.Span) is not { } frame)
            {
                // A blob that is not a base64 JPEG or PNG image is an invalid argument.
                await lifetime.CloseAsync(WebSocketCloseStatus.InvalidPayloadData, EmulatorCloseReasons.InvalidArgument).ConfigureAwait(false);
                return;
            }

            Started = true;
            record.RecordVideoFrame(frame);
            turns.Frames.Add(frame);
        }

        if (input.Text is { } text)
        {
            Started = true;
            record.RecordText(text);
            await turns.StartAsync(TurnInput.ForText(text), forcedCall: null, interruptFirst: true).ConfigureAwait(false);
        }

        if (input.ActivityStart)
        {
            record.RecordActivity(EmulatorActivitySignal.ActivityStart);
            if (!setup.ManualActivity)
            {
                // Activity signals are only allowed with automatic activity detection disabled.
                await lifetime.CloseAsync(WebSocketCloseStatus.InvalidPayloadData, EmulatorCloseReasons.InvalidArgument).ConfigureAwait(false);
                return;
            }

            await turns.InterruptAsync().ConfigureAwait(false);
            _detector.StartActivity();
        }

        if (input.ActivityEnd)
        {
            record.RecordActivity(EmulatorActivitySignal.ActivityEnd);
            if (!setup.ManualActivity)
            {
                await lifetime.CloseAsync(WebSocketCloseStatus.InvalidPayloadData, EmulatorCloseReasons.InvalidArgument).ConfigureAwait(false);
                return;
            }

            if (_detector.EndActivity() is { } utterance)
            {
                await turns.StartAsync(utterance, forcedCall: null, interruptFirst: true).ConfigureAwait(false);
            }
        }

        if (input.AudioStreamEnd)
        {
            record.RecordActivity(EmulatorActivitySignal.AudioStreamEnd);
            if (_detector.EndAudioStream() is { } utterance)
            {
                await turns.StartAsync(utterance, forcedCall: null, interruptFirst: true).ConfigureAwait(false);
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
                await lifetime.CloseAsync(WebSocketCloseStatus.InvalidPayloadData, EmulatorCloseReasons.InvalidArgument).ConfigureAwait(false);
                return;
            }

            record.RecordAudio(pcm.AsSpan(0, written));
            await ProcessAudioAsync(pcm.AsMemory(0, written & ~1), rate).ConfigureAwait(false);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(pcm);
        }
    }

    private async Task ProcessAudioAsync(ReadOnlyMemory<byte> pcm, int rate)
    {
        var utterance = _detector.Process(pcm.Span, rate, out var speechStarted);
        if (speechStarted)
        {
            await turns.InterruptAsync().ConfigureAwait(false);
        }

        if (utterance is not null)
        {
            await turns.StartAsync(utterance, forcedCall: null, interruptFirst: true).ConfigureAwait(false);
        }
    }

    public void Dispose() => _detector.Dispose();
}
