using System.Globalization;

namespace VoiceChat.Benchmarks;

/// <summary>
/// A second opinion on allocations, counted over every thread of the process
/// (<see cref="GC.GetTotalAllocatedBytes(bool)"/>): warm up, then run many frames and divide.
/// </summary>
internal static class AllocationCheck
{
    private const int Warmup = 20_000;
    private const int Frames = 200_000;

    public static async Task<int> RunAsync()
    {
        var worst = 0.0;
        foreach (var ms in new[] { 40, 100, 250 })
        {
            var upstream = new UpstreamAudioBenchmarks { AudioMs = ms };
            upstream.Setup();
            var perFrame = Measure(() => upstream.ReadAudioMessage());
            Report($"upstream audio message ({ms} ms at 24 kHz) -> client frame", perFrame);
            worst = Math.Max(worst, perFrame);
        }

        foreach (var ms in new[] { 20, 40, 100 })
        {
            var send = new RealtimeInputBenchmarks { FrameMs = ms };
            await send.Setup();
            for (var i = 0; i < Warmup; i++)
            {
                await send.SendAudio();
            }

            var before = GC.GetTotalAllocatedBytes(precise: true);
            for (var i = 0; i < Frames; i++)
            {
                await send.SendAudio();
            }

            var perFrame = (GC.GetTotalAllocatedBytes(precise: true) - before) / (double)Frames;
            Report($"client frame ({ms} ms at 16 kHz) -> realtimeInput message sent", perFrame);
            worst = Math.Max(worst, perFrame);
            await send.Cleanup();
        }

        return worst < 1 ? 0 : 1;
    }

    private static double Measure(Func<int> frame)
    {
        for (var i = 0; i < Warmup; i++)
        {
            frame();
        }

        var before = GC.GetTotalAllocatedBytes(precise: true);
        for (var i = 0; i < Frames; i++)
        {
            frame();
        }

        return (GC.GetTotalAllocatedBytes(precise: true) - before) / (double)Frames;
    }

    private static void Report(string what, double bytesPerFrame)
        => Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{what}: {bytesPerFrame:0.###} bytes allocated per frame"));
}
