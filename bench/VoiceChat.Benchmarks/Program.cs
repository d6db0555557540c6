using BenchmarkDotNet.Running;
using VoiceChat.Benchmarks;

// dotnet run -c Release --project bench/VoiceChat.Benchmarks -- --filter '*'            (BenchmarkDotNet)
// dotnet run -c Release --project bench/VoiceChat.Benchmarks -- --alloc-check           (bytes per frame, all threads)
if (args.Contains("--alloc-check"))
{
    return await AllocationCheck.RunAsync();
}

BenchmarkSwitcher.FromAssembly(typeof(UpstreamAudioBenchmarks).Assembly).Run(args);
return 0;
