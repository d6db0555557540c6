using BenchmarkDotNet.Attributes;
using VoiceChat.Live;
using VoiceChat.Live.Gemini;

namespace VoiceChat.Benchmarks;

/// <summary>
/// Model → app: one upstream audio message (JSON, base64 audio) → the client's binary frame, i.e. the
/// PCM in a pooled buffer that the transport sends as is. This is the bridge's message reader, as the
/// connection's read loop calls it for every message, the hand-over to the session's model pump
/// (waiting on the event queue with the session's token, as in the relay), and handing the buffer
/// back to the pool.
/// </summary>
[MemoryDiagnoser]
public class UpstreamAudioBenchmarks
{
    private readonly GeminiServerMessageReader _reader = new();
    private readonly List<LiveEvent> _events = new(4);
    private readonly LiveEventQueue _queue = new(64);
    private readonly CancellationTokenSource _session = new();
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
        var handedOver = _queue.ReadAsync(_session.Token);
        _queue.TryWrite(_events[0]);
        var audio = handedOver.IsCompleted
            ? handedOver.Result.Audio
            : throw new InvalidOperationException("The waiting reader should have taken the event at once.");
        var length = audio.Length; // the client's binary frame is audio.Memory, sent as is
        audio.Return();
        return length;
    }
}
