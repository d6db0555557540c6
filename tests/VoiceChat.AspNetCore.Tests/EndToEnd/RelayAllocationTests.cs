using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using VoiceChat.Sockets;
using VoiceChat.Tests.Infrastructure;

namespace VoiceChat.Tests.EndToEnd;

/// <summary>
/// What the whole relay allocates per audio frame. On one socket loop, a frame's way in (Kestrel, the
/// WebSocket, the session, the Gemini client) and the model's answer's way out all run on the loop's
/// thread, so that thread's allocation count is the relay's, apart from the client and the emulator,
/// which run on the thread pool.
/// </summary>
[Trait("Category", "Allocations")]
public sealed class RelayAllocationTests
{
    private const int FrameBytes = 1280; // 40 ms at 16 kHz; the echo answers with the same bytes
    private const int Window = 50;

    [AllocationFact(LinuxOnly = true)]
    public Task A_relayed_frame_and_its_answer_allocate_nothing_on_the_socket_loop_once_warm() =>
        MeasureAsync(withTools: false);

    [AllocationFact(LinuxOnly = true)]
    public Task With_tools_registered_a_relayed_frame_still_allocates_nothing() =>
        MeasureAsync(withTools: true);

    private static async Task MeasureAsync(bool withTools)
    {
        await using var host = await VoiceChatTestHost.StartAsync(
            emulator: e => e.EchoAudio = true,
            services: (builder, voiceChat) =>
            {
                builder.WebHost.UseVoiceChatSocketLoop(o => o.LoopCount = 1);
                if (withTools)
                {
                    voiceChat.AddTool(AIFunctionFactory.Create(() => "sunny", "get_weather", "Today's weather."));
                }
            });
        var loop = host.App.Services.GetRequiredService<SocketLoopGroup>().Next();
        await using var client = await host.ConnectAsync();
        await client.StartAsync();
        var frame = Pcm.Speech(0.04, 300);
        frame.Length.Should().Be(FrameBytes);

        await RelayAsync(client, frame, 1_000);
        var before = await AllocatedOnAsync(loop);
        await RelayAsync(client, frame, 3_000);
        var allocated = await AllocatedOnAsync(loop) - before;

        (allocated / 3_000.0).Should().BeLessThan(1, $"the relay allocated {allocated} bytes for 3000 frames and their answers");
    }

    /// <summary>
    /// Relays <paramref name="frames"/> frames, at most <see cref="Window"/> at a time: with the same
    /// number in flight as during the warm-up, the buffer pools have already grown to what they need.
    /// </summary>
    private static async Task RelayAsync(VoiceClient client, byte[] frame, int frames)
    {
        for (var sent = 0; sent < frames; sent += Window)
        {
            var expected = client.Audio.Length + ((long)Window * FrameBytes);
            for (var i = 0; i < Window; i++)
            {
                await client.SendAudioAsync(frame);
            }

            using var timeout = new CancellationTokenSource(VoiceClient.DefaultWait);
            while (client.Audio.Length < expected)
            {
                await Task.Delay(2, timeout.Token);
            }

            client.Audio.Length.Should().Be(expected, "every frame came back once");
        }
    }

    private static Task<long> AllocatedOnAsync(SocketLoop loop)
    {
        var allocated = new TaskCompletionSource<long>(TaskCreationOptions.RunContinuationsAsynchronously);
        loop.Schedule(static state => ((TaskCompletionSource<long>)state!).SetResult(GC.GetAllocatedBytesForCurrentThread()), allocated);
        return allocated.Task;
    }
}
