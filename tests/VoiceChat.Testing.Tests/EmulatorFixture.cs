namespace VoiceChat.Testing.Tests;

/// <summary>Short timings so that a conversation test takes about as long as the audio it speaks.</summary>
internal static class Emulators
{
    public static Task<LiveApiEmulator> StartAsync(Action<LiveApiEmulatorOptions>? configure = null)
    {
        var options = new LiveApiEmulatorOptions
        {
            SilenceDuration = TimeSpan.FromMilliseconds(300),
            OutputChunkDuration = TimeSpan.FromMilliseconds(100),
        };
        configure?.Invoke(options);
        return LiveApiEmulator.StartAsync(options);
    }
}
