using System.Buffers.Binary;
using VoiceChat.Testing.Audio;

namespace VoiceChat.Probe;

/// <summary>The user's side of the probe's turn: microphone audio (PCM16 mono) or a typed prompt.</summary>
internal sealed class Utterance
{
    private static readonly int[] SupportedRates = [8000, 16000, 24000, 48000];

    private Utterance(byte[] pcm, int sampleRate, string? text, string description)
    {
        Pcm = pcm;
        SampleRate = sampleRate;
        Text = text;
        Description = description;
    }

    /// <summary>PCM16 little-endian mono at <see cref="SampleRate"/>; empty for a typed turn.</summary>
    public byte[] Pcm { get; }

    /// <summary>The <c>input_sample_rate</c> announced in <c>start_session</c>.</summary>
    public int SampleRate { get; }

    /// <summary>A typed turn (<c>{"type":"text"}</c>) instead of audio.</summary>
    public string? Text { get; }

    /// <summary>What was said, for the report.</summary>
    public string Description { get; }

    public TimeSpan Duration => TimeSpan.FromSeconds(Pcm.Length / 2.0 / SampleRate);

    /// <summary>A speech-like voice at 16 kHz: loud enough for an energy-based turn detector, modulated at a syllable rate.</summary>
    public static Utterance Generated(TimeSpan duration) =>
        new(PcmAudio.SynthesizeSpeech(duration, 16000), 16000, null, string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{duration.TotalSeconds:0.#} s of generated speech"));

    public static Utterance Typed(string text) => new([], 16000, text, $"a typed turn, \"{text}\"");

    /// <summary>
    /// A RIFF/WAVE file of 16-bit PCM: stereo is mixed down to mono, and a rate the protocol does not take
    /// (44.1 kHz, for example) is resampled to 16 kHz.
    /// </summary>
    /// <exception cref="FormatException">The file is not 16-bit PCM WAVE.</exception>
    public static Utterance FromWav(string path, byte[] file)
    {
        ReadOnlySpan<byte> data = file;
        if (data.Length < 12 || !data[..4].SequenceEqual("RIFF"u8) || !data[8..12].SequenceEqual("WAVE"u8))
        {
            throw new FormatException($"{path} is not a WAV file (no RIFF/WAVE header).");
        }

        int channels = 0, rate = 0, bits = 0, format = 0;
        var position = 12;
        while (position + 8 <= data.Length)
        {
            var id = data.Slice(position, 4);
            var size = BinaryPrimitives.ReadInt32LittleEndian(data[(position + 4)..]);
            var body = position + 8;
            if (size < 0 || body + size > data.Length)
            {
                size = data.Length - body; // A truncated last chunk (a recording cut short): take what is there.
            }

            if (id.SequenceEqual("fmt "u8) && size >= 16)
            {
                format = BinaryPrimitives.ReadUInt16LittleEndian(data[body..]);
                channels = BinaryPrimitives.ReadUInt16LittleEndian(data[(body + 2)..]);
                rate = BinaryPrimitives.ReadInt32LittleEndian(data[(body + 4)..]);
                bits = BinaryPrimitives.ReadUInt16LittleEndian(data[(body + 14)..]);
            }
            else if (id.SequenceEqual("data"u8))
            {
                // 1 is PCM; 0xFFFE (WAVE_FORMAT_EXTENSIBLE) carries PCM in most 16-bit files written by recorders.
                if (format is not (1 or 0xFFFE) || bits != 16 || channels < 1 || rate < 1000)
                {
                    throw new FormatException($"{path} must be 16-bit PCM (it is format {format}, {bits}-bit, {channels} channel(s), {rate} Hz).");
                }

                var mono = Mix(data.Slice(body, size), channels);
                var description = string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{Path.GetFileName(path)} ({mono.Length / 2.0 / rate:0.0#} s at {rate} Hz)");
                return Array.IndexOf(SupportedRates, rate) >= 0
                    ? new Utterance(mono, rate, null, description)
                    : new Utterance(PcmAudio.Resample(mono, rate, 16000), 16000, null, description + ", resampled to 16 kHz");
            }

            position = body + size + (size & 1);
        }

        throw new FormatException($"{path} has no audio (no data chunk).");
    }

    private static byte[] Mix(ReadOnlySpan<byte> interleaved, int channels)
    {
        var frames = interleaved.Length / 2 / channels;
        var mono = new byte[frames * 2];
        for (var frame = 0; frame < frames; frame++)
        {
            var sum = 0;
            for (var channel = 0; channel < channels; channel++)
            {
                sum += BinaryPrimitives.ReadInt16LittleEndian(interleaved[(((frame * channels) + channel) * 2)..]);
            }

            BinaryPrimitives.WriteInt16LittleEndian(mono.AsSpan(frame * 2), (short)(sum / channels));
        }

        return mono;
    }
}
