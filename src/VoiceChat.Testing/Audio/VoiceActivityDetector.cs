using System.Buffers.Binary;

namespace VoiceChat.Testing.Audio;

/// <summary>What one chunk of audio did to the detector.</summary>
internal enum VadTransition
{
    None,

    /// <summary>Enough speech arrived to count as the start of an utterance.</summary>
    SpeechStarted,

    /// <summary>Enough silence followed the speech: the utterance is over.</summary>
    SpeechEnded,
}

/// <summary>
/// An energy detector over PCM16 mono, evaluated in 10 ms windows. Speech starts after
/// <c>minSpeech</c> of loud windows and ends after <c>silence</c> of quiet ones. Allocation-free.
/// </summary>
internal sealed class VoiceActivityDetector
{
    private int _windowSamples;
    private double _windowEnergy;
    private int _windowFill;
    private long _speechSamples;
    private long _silenceSamples;
    private bool _inSpeech;

    public bool InSpeech => _inSpeech;

    /// <summary>Samples judged as speech in the current utterance.</summary>
    public long SpeechSamples => _speechSamples;

    /// <summary>Trailing quiet samples of the current utterance.</summary>
    public long TrailingSilenceSamples => _inSpeech ? _silenceSamples : 0;

    public void Reset()
    {
        _windowEnergy = 0;
        _windowFill = 0;
        _speechSamples = 0;
        _silenceSamples = 0;
        _inSpeech = false;
    }

    /// <summary>Feeds a chunk; returns the first transition it caused (at most one start or end per call is reported).</summary>
    public VadTransition Process(ReadOnlySpan<byte> pcm, int sampleRate, double threshold, TimeSpan minSpeech, TimeSpan silence)
    {
        _windowSamples = Math.Max(1, sampleRate / 100);
        var minSpeechSamples = (long)(minSpeech.TotalSeconds * sampleRate);
        var silenceSamples = (long)(silence.TotalSeconds * sampleRate);
        var thresholdEnergy = threshold * threshold;
        var result = VadTransition.None;

        for (var i = 0; i + 1 < pcm.Length; i += 2)
        {
            double sample = BinaryPrimitives.ReadInt16LittleEndian(pcm[i..]);
            _windowEnergy += sample * sample;
            if (++_windowFill < _windowSamples)
            {
                continue;
            }

            var loud = _windowEnergy / _windowFill >= thresholdEnergy;
            var samples = _windowFill;
            _windowEnergy = 0;
            _windowFill = 0;

            if (loud)
            {
                _speechSamples += samples;
                _silenceSamples = 0;
                if (!_inSpeech && _speechSamples >= minSpeechSamples)
                {
                    _inSpeech = true;
                    if (result == VadTransition.None)
                    {
                        result = VadTransition.SpeechStarted;
                    }
                }
            }
            else if (_inSpeech)
            {
                _silenceSamples += samples;
                if (_silenceSamples >= silenceSamples)
                {
                    // The caller ends the utterance (and resets) even when it started in this same chunk.
                    return VadTransition.SpeechEnded;
                }
            }
            else
            {
                // Scattered loud windows without a run of speech decay, so noise never adds up to an utterance.
                _speechSamples = Math.Max(0, _speechSamples - samples);
            }
        }

        return result;
    }
}
