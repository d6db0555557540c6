using BenchmarkDotNet.Attributes;
using VoiceChat.Live;
using VoiceChat.Live.Gemini;

namespace VoiceChat.Benchmarks;

/// <summary>
/// Model → app: one upstream audio message (JSON, base64 audio) → the client's binary frame, i.e. the
/// PCM in a pooled buffer that the transport sends as is. This is the bridge's message reader, as the
/// connection's read loop calls it for every message, plus handing the buffer back to the pool.
/// </summary>
[MemoryDiagnoser]
public class UpstreamAudioBenchmarks
{
    private readonly GeminiServerMessageReader _reader = new();
    private readonly List<LiveEvent> _events = new(4);
    private byte[] _message = [];

    /// <summary>Audio per message at 24 kHz (the service sends ~40–250 ms chunks).</summary>
    [Params(40, 100, 250)]
    public int AudioMs { get; set; }

    [GlobalSetup]
    public void Setup() => _message = AudioPayloads.ServerAudioMessage(AudioPayloads.Pcm(24000, AudioMs));

    [Benchmark(Description = "upstream audio message -> client frame")]
    public int ReadAudioMessage()
    {
        _events.Clear();
        _reader.Read(_message, _events, out _);
        var audio = _events[0].Audio;
        var length = audio.Length; // the client's binary frame is audio.Memory, sent as is
        audio.Return();
        return length;
    }
}
