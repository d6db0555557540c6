using System.Buffers;
using System.Buffers.Binary;
using VoiceChat.Testing.Audio;
using VoiceChat.Testing.Sessions.Turns;

namespace VoiceChat.Testing.Sessions.Input;

/// <summary>
/// Turns a connection's input audio into user turns: with automatic activity detection, the energy
/// detector decides where speech starts (a barge-in) and ends; with it disabled, the client's
/// <c>activityStart</c>/<c>activityEnd</c> window does. Holds the utterance in a pooled buffer, bounded
/// by <see cref="LiveApiEmulatorOptions.MaxUtteranceDuration"/>. Used by the receive loop only.
/// </summary>
internal sealed class TurnDetector(LiveApiEmulatorOptions options, bool manualActivity, TimeSpan? silenceFromSetup) : IDisposable
{
    private readonly VoiceActivityDetector _vad = new();
    private byte[]? _utterance;
    private int _utteranceLength;
    private int _inputRate = 16000;
    private bool _inActivity;

    /// <summary>Takes a chunk of PCM16 audio.</summary>
    /// <param name="pcm">The audio.</param>
    /// <param name="rate">Its sample rate.</param>
    /// <param name="speechStarted">True when speech began in this chunk: the model's turn is interrupted.</param>
    /// <returns>The utterance this chunk ended, or null.</returns>
    public TurnInput? Process(ReadOnlySpan<byte> pcm, int rate, out bool speechStarted)
    {
        speechStarted = false;
        _inputRate = rate;
        if (manualActivity)
        {
            // Audio outside an activity window is discarded.
            if (_inActivity && Append(pcm, rate))
            {
                _inActivity = false;
                return EndUtterance(trimSilence: false);
            }

            return null;
        }

        var transition = _vad.Process(pcm, rate, options.SpeechThreshold, options.MinSpeechDuration, silenceFromSetup ?? options.SilenceDuration);
        var full = Append(pcm, rate);
        switch (transition)
        {
            case VadTransition.SpeechStarted:
                speechStarted = true;
                break;
            case VadTransition.SpeechEnded:
                return EndUtterance(trimSilence: true);
            default:
                if (!_vad.InSpeech && _vad.SpeechSamples == 0)
                {
                    // Only silence so far: keep nothing.
                    Clear();
                }

                break;
        }

        if (full)
        {
            if (_vad.InSpeech)
            {
                return EndUtterance(trimSilence: true);
            }

            // Long noise that never became speech: drop it rather than hold it.
            Clear();
        }

        return null;
    }

    /// <summary><c>activityStart</c>: a new utterance begins.</summary>
    public void StartActivity()
    {
        Clear();
        _inActivity = true;
    }

    /// <summary><c>activityEnd</c>: the utterance of the open activity window, or null when none is open.</summary>
    public TurnInput? EndActivity()
    {
        if (!_inActivity)
        {
            return null;
        }

        _inActivity = false;
        return EndUtterance(trimSilence: false);
    }

    /// <summary><c>audioStreamEnd</c>, the flush: a pending utterance ends at once.</summary>
    public TurnInput? EndAudioStream() => !manualActivity && _vad.InSpeech ? EndUtterance(trimSilence: true) : null;

    public void Dispose() => Clear();

    /// <summary>Appends to the utterance; true when it reached <see cref="LiveApiEmulatorOptions.MaxUtteranceDuration"/>.</summary>
    private bool Append(ReadOnlySpan<byte> pcm, int rate)
    {
        var max = (int)Math.Min(int.MaxValue / 2, options.MaxUtteranceDuration.TotalSeconds * rate * 2);
        _utterance ??= ArrayPool<byte>.Shared.Rent(Math.Min(max, 64 * 1024));
        var take = Math.Min(pcm.Length, max - _utteranceLength);
        if (take > 0)
        {
            if (_utteranceLength + take > _utterance.Length)
            {
                var bigger = ArrayPool<byte>.Shared.Rent(Math.Min(max, Math.Max(_utteranceLength + take, _utterance.Length * 2)));
                _utterance.AsSpan(0, _utteranceLength).CopyTo(bigger);
                ArrayPool<byte>.Shared.Return(_utterance);
                _utterance = bigger;
            }

            pcm[..take].CopyTo(_utterance.AsSpan(_utteranceLength));
            _utteranceLength += take;
        }

        return _utteranceLength >= max;
    }

    private void Clear()
    {
        if (_utterance is not null)
        {
            ArrayPool<byte>.Shared.Return(_utterance);
            _utterance = null;
        }

        _utteranceLength = 0;
    }

    private TurnInput EndUtterance(bool trimSilence)
    {
        _vad.Reset();
        ReadOnlySpan<byte> span = _utterance is null ? [] : _utterance.AsSpan(0, _utteranceLength);
        if (trimSilence)
        {
            span = TrimTrailingSilence(span, _inputRate, options.SpeechThreshold);
        }

        var pcm = span.ToArray();
        Clear();
        return TurnInput.ForAudio(pcm, _inputRate);
    }

    private static ReadOnlySpan<byte> TrimTrailingSilence(ReadOnlySpan<byte> pcm, int rate, double threshold)
    {
        var window = Math.Max(1, rate / 100) * 2;
        var end = pcm.Length & ~1;
        while (end > 0)
        {
            var start = Math.Max(0, end - window);
            double energy = 0;
            for (var i = start; i + 1 < end; i += 2)
            {
                double sample = BinaryPrimitives.ReadInt16LittleEndian(pcm[i..]);
                energy += sample * sample;
            }

            if (energy / ((end - start) / 2) >= threshold * threshold)
            {
                break;
            }

            end = start;
        }

        return pcm[..end];
    }
}
