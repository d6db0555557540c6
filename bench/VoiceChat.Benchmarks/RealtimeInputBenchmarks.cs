using System.Text;
using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.Logging.Abstractions;
using VoiceChat.Live.Gemini;
using VoiceChat.Live.WebSockets;

namespace VoiceChat.Benchmarks;

/// <summary>
/// App → model: one client audio frame → the upstream <c>realtimeInput</c> message, written and sent by
/// the bridge (<see cref="GeminiLiveConnection.SendAudioAsync"/>) over a real loopback WebSocket to a sink
/// that discards it. Includes the JSON + base64 encoding, the WebSocket framing and masking, and the
/// socket write; the sink's side runs on its own thread and allocates nothing.
/// </summary>
[MemoryDiagnoser]
public class RealtimeInputBenchmarks
{
    private LoopbackSink? _sink;
    private HttpMessageInvoker? _http;
    private GeminiLiveConnection? _connection;
    private ReadOnlyMemory<byte> _frame;

    /// <summary>Microphone frame length at 16 kHz.</summary>
    [Params(20, 40, 100)]
    public int FrameMs { get; set; }

    [GlobalSetup]
    public async Task Setup()
    {
        _frame = AudioPayloads.Pcm(16000, FrameMs);
        _sink = new LoopbackSink();
        _http = new HttpMessageInvoker(new SocketsHttpHandler());
        var socket = await WebSocketUpgrade.ConnectAsync(_sink.Uri, _http, [], new UpstreamWebSocketOptions(), TimeProvider.System, CancellationToken.None);
        var setup = Encoding.UTF8.GetBytes("""{"setup":{"model":"models/gemini-2.5-flash-native-audio-preview-12-2025","generationConfig":{"responseModalities":["AUDIO"]}}}""");
        _connection = await GeminiLiveConnection.StartAsync(
            socket, setup, GeminiModelFamily.Gemini2, 16000, TimeSpan.FromSeconds(10), TimeProvider.System,
            NullLogger.Instance, "bench", CancellationToken.None);
    }

    [GlobalCleanup]
    public async Task Cleanup()
    {
        if (_connection is not null)
        {
            await _connection.DisposeAsync();
        }

        _sink?.Dispose();
        _http?.Dispose();
    }

    [Benchmark(Description = "client frame -> realtimeInput message (sent)")]
    public ValueTask SendAudio() => _connection!.SendAudioAsync(_frame, CancellationToken.None);
}
