using System.Security.Claims;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using VoiceChat.Live;
using VoiceChat.Live.Gemini;

namespace VoiceChat.Tests.Live.Integration;

/// <summary>The bridge as the session engine sees it: DI, the factory, and an event recorder.</summary>
internal static class LiveHarness
{
    public static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    public static ServiceProvider Services(Uri baseUrl, Action<GeminiOptions>? configure = null, Action<IVoiceChatBuilder>? build = null, Action<IServiceCollection>? services = null)
    {
        var collection = new ServiceCollection();
        collection.AddLogging(logging => logging.SetMinimumLevel(LogLevel.Debug));
        collection.AddOptions<VoiceChatOptions>().Configure(o =>
        {
            o.Gemini.BaseUrl = baseUrl;
            o.Gemini.ApiKey = "test-key";
            o.Gemini.SetupTimeout = TimeSpan.FromSeconds(10);
            o.Gemini.ReconnectDelay = TimeSpan.FromMilliseconds(50);
            configure?.Invoke(o.Gemini);
        });
        services?.Invoke(collection);
        collection.AddGeminiLive();
        build?.Invoke(new TestBuilder(collection));
        return collection.BuildServiceProvider(validateScopes: true);
    }

    public static LiveSessionRequest Request(string sessionId = "s1", int inputSampleRate = 16000) =>
        new(sessionId, "u1", null, null, inputSampleRate, new Dictionary<string, string>(), new ClaimsPrincipal(new ClaimsIdentity()), IsUserVerified: false);

    public static async Task<(ILiveConnection Connection, EventRecorder Events)> ConnectAsync(ServiceProvider services, LiveSessionRequest? request = null)
    {
        var factory = services.GetRequiredService<ILiveConnectionFactory>();
        using var timeout = new CancellationTokenSource(Patience);
        var connection = (await factory.ConnectAsync(request ?? Request(), timeout.Token)).Connection;
        return (connection, new EventRecorder(connection));
    }

    /// <summary>PCM16 mono: a loud tone (speech for the emulator's detector) or near-silence.</summary>
    public static byte[] Tone(TimeSpan duration, int sampleRate = 16000, double amplitude = 8000)
    {
        var samples = (int)(duration.TotalSeconds * sampleRate);
        var pcm = new byte[samples * 2];
        for (var i = 0; i < samples; i++)
        {
            var value = (short)(amplitude * Math.Sin(2 * Math.PI * 440 * i / sampleRate));
            pcm[2 * i] = (byte)value;
            pcm[(2 * i) + 1] = (byte)(value >> 8);
        }

        return pcm;
    }

    public static async Task SendPacedAsync(ILiveConnection connection, byte[] pcm, int frameBytes = 3200)
    {
        for (var offset = 0; offset < pcm.Length; offset += frameBytes)
        {
            await connection.SendAudioAsync(pcm.AsMemory(offset, Math.Min(frameBytes, pcm.Length - offset)), CancellationToken.None);
        }
    }

    private sealed class TestBuilder(IServiceCollection services) : IVoiceChatBuilder
    {
        public IServiceCollection Services { get; } = services;
    }
}

/// <summary>A recorded event; audio is copied and its pooled buffer returned.</summary>
internal sealed record RecordedEvent(LiveEventKind Kind, string? Text, bool Final, byte[]? Audio, LiveToolStatus? ToolStatus, LiveError? Error);

/// <summary>Reads a connection's events in the background, as the session engine does.</summary>
internal sealed class EventRecorder
{
    private readonly Lock _gate = new();
    private readonly List<RecordedEvent> _events = [];
    private readonly ILiveConnection _connection;
    private readonly CancellationTokenSource _stop = new();

    public EventRecorder(ILiveConnection connection)
    {
        _connection = connection;
        Loop = Task.Run(RunAsync);
    }

    public Task Loop { get; }

    public IReadOnlyList<RecordedEvent> Snapshot()
    {
        lock (_gate)
        {
            return [.. _events];
        }
    }

    public IReadOnlyList<RecordedEvent> OfKind(LiveEventKind kind) => Snapshot().Where(e => e.Kind == kind).ToList();

    public async Task<IReadOnlyList<RecordedEvent>> WaitForAsync(Func<IReadOnlyList<RecordedEvent>, bool> condition, string because)
    {
        var deadline = DateTime.UtcNow + LiveHarness.Patience;
        while (true)
        {
            var snapshot = Snapshot();
            if (condition(snapshot))
            {
                return snapshot;
            }

            if (DateTime.UtcNow > deadline || (Loop.IsCompleted && !condition(Snapshot())))
            {
                throw new TimeoutException($"Waited for {because}; events: {string.Join(", ", snapshot.Select(Describe))}");
            }

            await Task.Delay(20);
        }
    }

    public Task<IReadOnlyList<RecordedEvent>> WaitForKindAsync(LiveEventKind kind, int count = 1) =>
        WaitForAsync(events => events.Count(e => e.Kind == kind) >= count, $"{count} × {kind}");

    public static string Describe(RecordedEvent e) => e.Kind switch
    {
        LiveEventKind.Audio => $"audio({e.Audio!.Length})",
        LiveEventKind.InputTranscript or LiveEventKind.OutputTranscript => $"{e.Kind}({e.Text},{e.Final})",
        LiveEventKind.ToolStatus => $"tool({e.ToolStatus!.Name},{e.ToolStatus.Status})",
        LiveEventKind.Error or LiveEventKind.Closed => $"{e.Kind}({e.Error?.Code})",
        _ => e.Kind.ToString(),
    };

    private async Task RunAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            LiveEvent e;
            try
            {
                e = await _connection.ReceiveAsync(_stop.Token);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            byte[]? audio = null;
            if (e.Kind == LiveEventKind.Audio)
            {
                audio = e.Audio.Memory.ToArray();
                e.Audio.Return();
            }

            lock (_gate)
            {
                _events.Add(new RecordedEvent(e.Kind, e.Text, e.Final, audio, e.ToolStatus, e.Error));
            }

            if (e.Kind == LiveEventKind.Closed)
            {
                return;
            }
        }
    }

    public async Task StopAsync()
    {
        await _stop.CancelAsync();
        try
        {
            await Loop;
        }
        catch (OperationCanceledException)
        {
        }
    }
}
