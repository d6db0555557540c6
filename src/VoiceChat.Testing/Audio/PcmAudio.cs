using System.Buffers.Binary;

namespace VoiceChat.Testing.Audio;

/// <summary>PCM16 helpers: resampling, synthetic speech, mime-type rates.</summary>
internal static class PcmAudio
{
    public const int OutputSampleRate = 24000;

    /// <summary>Resamples PCM16 mono by linear interpolation.</summary>
    public static byte[] Resample(ReadOnlySpan<byte> pcm, int fromRate, int toRate)
    {
        var inSamples = pcm.Length / 2;
        if (inSamples == 0)
        {
            return [];
        }

        if (fromRate == toRate)
        {
            return pcm[..(inSamples * 2)].ToArray();
        }

        var outSamples = (int)((long)inSamples * toRate / fromRate);
        var output = new byte[outSamples * 2];
        var step = (double)fromRate / toRate;
        for (var i = 0; i < outSamples; i++)
        {
            var position = i * step;
            var index = (int)position;
            var fraction = position - index;
            var a = BinaryPrimitives.ReadInt16LittleEndian(pcm[(index * 2)..]);
            var b = index + 1 < inSamples ? BinaryPrimitives.ReadInt16LittleEndian(pcm[((index + 1) * 2)..]) : a;
            var value = (short)Math.Round(a + ((b - a) * fraction));
            BinaryPrimitives.WriteInt16LittleEndian(output.AsSpan(i * 2), value);
        }

        return output;
    }

    /// <summary>
    /// Speech-like audio at 24 kHz: a 220 Hz voice with a few harmonics, its loudness modulated at a
    /// syllable rate (4 Hz), so it sounds like speech to an energy detector and to a listener.
    /// </summary>
    public static byte[] SynthesizeSpeech(TimeSpan duration, int sampleRate = OutputSampleRate)
    {
        var samples = (int)(duration.TotalSeconds * sampleRate);
        var output = new byte[samples * 2];
        for (var i = 0; i < samples; i++)
        {
            var t = (double)i / sampleRate;
            var envelope = 0.55 + (0.45 * Math.Sin(2 * Math.PI * 4 * t));
            var voice = Math.Sin(2 * Math.PI * 220 * t) + (0.5 * Math.Sin(2 * Math.PI * 440 * t)) + (0.25 * Math.Sin(2 * Math.PI * 660 * t));
            var value = (short)(voice / 1.75 * envelope * 8000);
            BinaryPrimitives.WriteInt16LittleEndian(output.AsSpan(i * 2), value);
        }

        return output;
    }

    /// <summary>Reads <c>rate=N</c> from a mime type such as <c>audio/pcm;rate=16000</c>; <paramref name="fallback"/> otherwise.</summary>
    public static int ParseRate(ReadOnlySpan<byte> mimeType, int fallback)
    {
        var index = mimeType.IndexOf("rate="u8);
        if (index < 0)
        {
            return fallback;
        }

        var digits = mimeType[(index + 5)..];
        var value = 0;
        var count = 0;
        foreach (var c in digits)
        {
            if (c is < (byte)'0' or > (byte)'9' || count == 7)
            {
                break;
            }

            value = (value * 10) + (c - '0');
            count++;
        }

        return value is >= 1000 and <= 192000 ? value : fallback;
    }
}
