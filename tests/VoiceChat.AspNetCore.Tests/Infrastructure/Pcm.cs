namespace VoiceChat.Tests.Infrastructure;

/// <summary>Test audio: PCM16 little-endian mono.</summary>
internal static class Pcm
{
    /// <summary>A speech-like tone: <paramref name="frequency"/> Hz, amplitude varying like syllables, never silent.</summary>
    public static byte[] Speech(double seconds, double frequency = 300, int sampleRate = 16000)
    {
        var samples = (int)(seconds * sampleRate);
        var pcm = new byte[samples * 2];
        for (var i = 0; i < samples; i++)
        {
            var t = (double)i / sampleRate;
            var envelope = 0.6 + (0.4 * Math.Sin(2 * Math.PI * 3 * t));
            var value = (short)(9000 * envelope * Math.Sin(2 * Math.PI * frequency * t));
            pcm[2 * i] = (byte)value;
            pcm[(2 * i) + 1] = (byte)(value >> 8);
        }

        return pcm;
    }

    public static byte[] Silence(double seconds, int sampleRate = 16000) => new byte[(int)(seconds * sampleRate) * 2];

    public static byte[] Concat(params byte[][] parts) => parts.SelectMany(p => p).ToArray();

    /// <summary>The dominant frequency of a tone, from its zero crossings.</summary>
    public static double EstimateFrequency(ReadOnlySpan<byte> pcm, int sampleRate)
    {
        var samples = pcm.Length / 2;
        var crossings = 0;
        short previous = 0;
        var counted = 0;
        for (var i = 0; i < samples; i++)
        {
            var value = (short)(pcm[2 * i] | (pcm[(2 * i) + 1] << 8));
            if (Math.Abs((int)value) < 200)
            {
                continue; // Ignore near-silence (fades, gaps).
            }

            if (counted > 0 && (value > 0) != (previous > 0))
            {
                crossings++;
            }

            previous = value;
            counted++;
        }

        return crossings / 2.0 / ((double)samples / sampleRate);
    }

    /// <summary>Root mean square of the samples, 0..32768.</summary>
    public static double Rms(ReadOnlySpan<byte> pcm)
    {
        double sum = 0;
        var samples = pcm.Length / 2;
        for (var i = 0; i < samples; i++)
        {
            double value = (short)(pcm[2 * i] | (pcm[(2 * i) + 1] << 8));
            sum += value * value;
        }

        return samples == 0 ? 0 : Math.Sqrt(sum / samples);
    }
}
