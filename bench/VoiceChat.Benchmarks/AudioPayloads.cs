using System.Buffers;
using System.Buffers.Binary;
using System.Text.Json;

namespace VoiceChat.Benchmarks;

/// <summary>Test inputs: speech-like PCM16 and the service's audio messages carrying it.</summary>
internal static class AudioPayloads
{
    /// <summary>A frame of PCM16 mono of <paramref name="milliseconds"/> at <paramref name="sampleRate"/>.</summary>
    public static byte[] Pcm(int sampleRate, int milliseconds)
    {
        var samples = sampleRate * milliseconds / 1000;
        var pcm = new byte[samples * 2];
        for (var n = 0; n < samples; n++)
        {
            var t = (double)n / sampleRate;
            var value = (0.4 * Math.Sin(2 * Math.PI * 180 * t)) + (0.2 * Math.Sin(2 * Math.PI * 700 * t)) + (0.1 * Math.Sin(2 * Math.PI * 2500 * t));
            BinaryPrimitives.WriteInt16LittleEndian(pcm.AsSpan(n * 2), (short)(value * 16000));
        }

        return pcm;
    }

    /// <summary>
    /// <c>{"serverContent":{"modelTurn":{"parts":[{"inlineData":{"mimeType":"audio/pcm;rate=24000","data":"…"}}]}}}</c>,
    /// the shape of the Developer API's audio messages (and of the emulator's echo).
    /// </summary>
    public static byte[] ServerAudioMessage(ReadOnlySpan<byte> pcm)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteStartObject("serverContent");
            json.WriteStartObject("modelTurn");
            json.WriteStartArray("parts");
            json.WriteStartObject();
            json.WriteStartObject("inlineData");
            json.WriteString("mimeType", "audio/pcm;rate=24000");
            json.WriteBase64String("data", pcm);
            json.WriteEndObject();
            json.WriteEndObject();
            json.WriteEndArray();
            json.WriteEndObject();
            json.WriteEndObject();
            json.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }
}
