using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Net;
using System.Net.WebSockets;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using VoiceChat.Tests.Infrastructure;

namespace VoiceChat.Tests.EndToEnd;

/// <summary>
/// What the whole relay allocates per audio frame, on Kestrel's own socket transport. The emulator
/// runs in a process of its own (the echo scenario of <c>voicechat-emulator</c>) and the client below
/// allocates nothing once warm, so the bytes this process allocates while frames stream are the
/// relay's: Kestrel, the WebSocket, the session and the Gemini client, each way.
/// </summary>
/// <remarks>
/// The count is process-wide, so it includes what the framework allocates: Kestrel's socket
/// transport allocates two small arrays for each send whose bytes span two of its pipe's blocks
/// (30 to 80 bytes per frame on average, measured). The bound below sits well under one frame
/// (1280 bytes; 1708 as the base64 the model connection carries), so a buffer, a string or a
/// message object per frame fails it. The event queue, which alone hands each model message from
/// one thread to another, has a test of its own that counts exactly (LiveEventQueueTests).
/// </remarks>
[Trait("Category", "Allocations")]
public sealed class RelayAllocationTests
{
    private const int FrameBytes = 1280; // 40 ms at 16 kHz; the echo answers with the same bytes
    private const int Window = 50;
    private const int MeasuredFrames = 10_000;

    private const double AllowedBytesPerFrame = 256;

    [AllocationFact]
    public Task A_relayed_frame_and_its_answer_allocate_no_buffer_once_warm() => MeasureAsync(withTools: false);

    [AllocationFact]
    public Task With_tools_registered_a_relayed_frame_still_allocates_no_buffer() => MeasureAsync(withTools: true);

    /// <summary>
    /// With every <c>VoiceChat</c> instrument and span listened to, as an app with OpenTelemetry does:
    /// the audio path records through cached tags only.
    /// </summary>
    [AllocationFact]
    public async Task With_telemetry_listened_to_a_relayed_frame_still_allocates_no_buffer()
    {
        using var meters = new MeterListener();
        meters.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == "VoiceChat")
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        meters.SetMeasurementEventCallback<long>(static (_, _, _, _) => { });
        meters.SetMeasurementEventCallback<double>(static (_, _, _, _) => { });
        meters.Start();
        using var spans = new ActivityListener
        {
            ShouldListenTo = source => source.Name == "VoiceChat",
            Sample = static (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
        };
        ActivitySource.AddActivityListener(spans);

        await MeasureAsync(withTools: false);
    }

    [AllocationFact]
    public Task With_a_session_event_handler_a_relayed_frame_still_allocates_no_buffer() => MeasureAsync(withTools: false, withEventHandler: true);

    private static async Task MeasureAsync(bool withTools, bool withEventHandler = false)
    {
        await using var emulator = await DotnetProcess.StartAsync("VoiceChat.Emulator", "Base URL:", ["--port", "0", "--scenario", "echo"]);
        await using var app = await StartRelayAsync(emulator.Url, withTools, withEventHandler);
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();

        using var socket = new ClientWebSocket();
        using var timeout = new CancellationTokenSource(VoiceClient.DefaultWait);
        await socket.ConnectAsync(new Uri($"ws://{new Uri(address).Authority}/voice"), timeout.Token);
        await socket.SendAsync(Encoding.UTF8.GetBytes("""{"type":"start_session","user_id":"u1"}"""), WebSocketMessageType.Text, true, timeout.Token);
        var receive = new byte[64 * 1024];
        var started = await socket.ReceiveAsync(receive.AsMemory(), timeout.Token);
        Encoding.UTF8.GetString(receive, 0, started.Count).Should().Contain("session_started");

        var frame = Pcm.Speech(0.04, 300);
        frame.Length.Should().Be(FrameBytes);

        await RelayAsync(socket, frame, receive, 3_000, timeout.Token);
        var before = GC.GetTotalAllocatedBytes(precise: true);
        await RelayAsync(socket, frame, receive, MeasuredFrames, timeout.Token);
        var allocated = GC.GetTotalAllocatedBytes(precise: true) - before;

        ((double)allocated / MeasuredFrames).Should().BeLessThan(
            AllowedBytesPerFrame,
            $"the relay allocated {allocated} bytes for {MeasuredFrames} frames and their answers");
    }

    /// <summary>
    /// Relays <paramref name="frames"/> frames, <see cref="Window"/> at a time, and reads every answer
    /// byte into one buffer: with as many in flight as during the warm-up, the pools have already grown
    /// to what they need. Any JSON message in between is a failure (the echo sends audio only).
    /// </summary>
    private static async Task RelayAsync(ClientWebSocket socket, byte[] frame, byte[] receive, int frames, CancellationToken cancellationToken)
    {
        for (var sent = 0; sent < frames; sent += Window)
        {
            for (var i = 0; i < Window; i++)
            {
                await socket.SendAsync(frame.AsMemory(), WebSocketMessageType.Binary, true, cancellationToken);
            }

            var expected = (long)Window * FrameBytes;
            while (expected > 0)
            {
                var result = await socket.ReceiveAsync(receive.AsMemory(), cancellationToken);
                if (result.MessageType != WebSocketMessageType.Binary)
                {
                    throw new InvalidOperationException($"Expected echoed audio, got a {result.MessageType} frame: {Encoding.UTF8.GetString(receive, 0, result.Count)}");
                }

                expected -= result.Count;
            }

            expected.Should().Be(0, "every frame came back once");
        }
    }

    private static async Task<WebApplication> StartRelayAsync(Uri emulatorUrl, bool withTools, bool withEventHandler)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, 0));
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        var voiceChat = builder.Services.AddVoiceChat(o =>
        {
            o.Gemini.BaseUrl = emulatorUrl;
            o.Gemini.ApiKey = "test-key";
            o.KeepAliveInterval = TimeSpan.Zero; // no ping timers during the count
            o.MaxAudioAheadOfRealTime = TimeSpan.FromMinutes(10); // the frames go as fast as they come back
            o.AllowAnonymous = true;
        });
        if (withTools)
        {
            voiceChat.AddTool(AIFunctionFactory.Create(() => "sunny", "get_weather", "Today's weather."));
        }

        if (withEventHandler)
        {
            voiceChat.AddSessionEventHandler<Events.RecordingEventHandler>();
        }

        var app = builder.Build();
        app.MapVoiceChat();
        await app.StartAsync();
        return app;
    }
}
