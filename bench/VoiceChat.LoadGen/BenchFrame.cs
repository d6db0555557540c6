using System.Buffers.Binary;
using System.Diagnostics;

namespace VoiceChat.LoadGen;

/// <summary>
/// The microphone frames the generator sends. Each frame is speech-like PCM16 with a header
/// stamped over its first bytes, so that its echo can be matched and timed without any lookup:
/// bytes 0–3 ASCII <c>VCbm</c>, 4–7 sequence number (uint32 LE), 8–11 session index (uint32 LE),
/// 12–19 send time (<see cref="Stopwatch.GetTimestamp"/>, int64 LE).
/// </summary>
internal static class BenchFrame
{
    public const int HeaderBytes = 20;

    private const uint Magic = 0x6D624356; // "VCbm" read as little-endian uint32

    /// <summary>One second of synthetic speech-like audio at 16 kHz, looped by every session.</summary>
    public static readonly byte[] SpeechLoop = MakeSpeechLikePcm(16000, 16000);

    public static void Stamp(Span<byte> frame, uint sequence, uint sessionIndex, long timestamp)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(frame, Magic);
        BinaryPrimitives.WriteUInt32LittleEndian(frame[4..], sequence);
        BinaryPrimitives.WriteUInt32LittleEndian(frame[8..], sessionIndex);
        BinaryPrimitives.WriteInt64LittleEndian(frame[12..], timestamp);
    }

    /// <summary>Fills <paramref name="frame"/> with the speech loop from the position of frame <paramref name="sequence"/>.</summary>
    public static void FillAudio(Span<byte> frame, uint sequence)
    {
        var loop = SpeechLoop;
        var offset = (int)((long)sequence * frame.Length % loop.Length);
        var written = 0;
        while (written < frame.Length)
        {
            var chunk = Math.Min(frame.Length - written, loop.Length - offset);
            loop.AsSpan(offset, chunk).CopyTo(frame[written..]);
            written += chunk;
            offset = 0;
        }
    }

    public static bool TryRead(ReadOnlySpan<byte> frame, out uint sequence, out uint sessionIndex, out long timestamp)
    {
        if (frame.Length < HeaderBytes || BinaryPrimitives.ReadUInt32LittleEndian(frame) != Magic)
        {
            sequence = 0;
            sessionIndex = 0;
            timestamp = 0;
            return false;
        }

        sequence = BinaryPrimitives.ReadUInt32LittleEndian(frame[4..]);
        sessionIndex = BinaryPrimitives.ReadUInt32LittleEndian(frame[8..]);
        timestamp = BinaryPrimitives.ReadInt64LittleEndian(frame[12..]);
        return true;
    }

    public static long ElapsedMicroseconds(long fromTimestamp, long toTimestamp)
        => (toTimestamp - fromTimestamp) * 1_000_000 / Stopwatch.Frequency;

    /// <summary>
    /// A deterministic vowel-like signal: a glottal pulse train (120–220 Hz pitch contour) shaped by
    /// three formants, syllable-rate amplitude modulation and a little noise, peaking near -6 dBFS.
    /// Real speech statistics matter if anything on the path looks at the audio (voice activity detection).
    /// </summary>
    private static byte[] MakeSpeechLikePcm(int sampleRate, int samples)
    {
        var pcm = new byte[samples * 2];
        var random = new Random(20261125);
        double phase = 0;
        for (var n = 0; n < samples; n++)
        {
            var t = (double)n / sampleRate;
            var pitch = 170 + (50 * Math.Sin(2 * Math.PI * 0.7 * t));
            phase += 2 * Math.PI * pitch / sampleRate;
            var voiced = (0.55 * Math.Sin(phase)) + (0.3 * Math.Sin(2 * phase)) + (0.15 * Math.Sin(3 * phase));
            var formants = (0.5 * Math.Sin(2 * Math.PI * 700 * t)) + (0.3 * Math.Sin(2 * Math.PI * 1200 * t)) + (0.15 * Math.Sin(2 * Math.PI * 2500 * t));
            var syllable = 0.5 + (0.5 * Math.Sin(2 * Math.PI * 4 * t)); // ~4 syllables a second
            var sample = syllable * ((0.6 * voiced) + (0.3 * voiced * formants)) + (0.02 * ((random.NextDouble() * 2) - 1));
            var value = (short)Math.Clamp(sample * 16000, short.MinValue, short.MaxValue);
            BinaryPrimitives.WriteInt16LittleEndian(pcm.AsSpan(n * 2), value);
        }

        return pcm;
    }
}
