using System.Text.Json;
using VoiceChat.LoadGen;

LoadOptions options;
try
{
    options = LoadOptions.Parse(args);
}
catch (Exception ex) when (ex is ArgumentException or FormatException or UriFormatException)
{
    Console.Error.WriteLine(ex.Message);
    Console.Error.WriteLine(LoadOptions.Usage);
    return 2;
}

// A hard bound on the whole run whatever happens: ramp + steady state + generous margins for start, drain and end.
var hardLimit = TimeSpan.FromSeconds((options.Sessions / options.RampPerSecond) + options.Duration.TotalSeconds + 120);
using var cancel = new CancellationTokenSource(hardLimit);
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    cancel.Cancel();
};

// Each session holds one socket: make sure the thread pool does not throttle the ramp-up.
ThreadPool.SetMinThreads(Math.Max(Environment.ProcessorCount * 2, 8), Math.Max(Environment.ProcessorCount * 2, 8));

LoadResult result;
try
{
    result = await new LoadRunner(options).RunAsync(cancel.Token);
}
catch (OperationCanceledException)
{
    Console.Error.WriteLine($"[{options.Label}] stopped: the run hit its hard limit of {hardLimit.TotalSeconds:0} s or was interrupted.");
    return 3;
}

var json = JsonSerializer.Serialize(result, LoadResultJsonContext.Default.LoadResult);
if (options.JsonPath is { } jsonPath)
{
    await File.WriteAllTextAsync(jsonPath, json + Environment.NewLine);
}

var markdown = result.ToMarkdown();
if (options.MarkdownPath is { } markdownPath)
{
    await File.WriteAllTextAsync(markdownPath, markdown);
}

Console.WriteLine(markdown);
if (options.Smoke)
{
    Console.WriteLine($"smoke: all sessions connected: {(result.SessionsEstablished == result.SessionsRequested && result.SessionsDropped == 0 ? "yes" : "no")}");
    Console.WriteLine($"smoke: no frame lost: {(result.FramesLost == 0 && result.FramesReceived > 0 ? "yes" : "no")}");
    Console.WriteLine($"smoke: all ended cleanly: {(result.SessionsEndedCleanly == result.SessionsRequested ? "yes" : "no")}");
    if (result.Resume is { } resume)
    {
        Console.WriteLine($"smoke: every cut resumed: {(resume.Cuts == (long)result.SessionsRequested * resume.CutsPerSession && resume.Resumed == resume.Cuts ? "yes" : "no")}");
        Console.WriteLine($"smoke: no frame repeated, skipped or corrupt: {(result.FramesOutOfOrder == 0 && result.FramesSkipped == 0 && resume.FramesCorrupt == 0 ? "yes" : "no")}");
    }

    return result.Passed && result.FramesReceived > 0 ? 0 : 1;
}

return 0;
