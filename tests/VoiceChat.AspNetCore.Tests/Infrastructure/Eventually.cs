namespace VoiceChat.Tests.Infrastructure;

/// <summary>Waits for state that another process or thread changes (the emulator's records).</summary>
internal static class Eventually
{
    /// <summary>Polls <paramref name="condition"/> for up to 30 s, then asserts it.</summary>
    public static async Task TrueAsync(Func<bool> condition)
    {
        for (var i = 0; i < 300 && !condition(); i++)
        {
            await Task.Delay(100);
        }

        condition().Should().BeTrue();
    }
}
