using VoiceChat.Tests.Infrastructure;

namespace VoiceChat.Tests.EndToEnd;

public sealed class ConcurrentSessionsTests
{
    [Fact]
    public async Task Ten_concurrent_sessions_each_complete_a_turn_and_hear_only_their_own_audio()
    {
        await using var host = await VoiceChatTestHost.StartAsync();

        var results = await host.TalkAtOnceAsync(10);

        foreach (var (expected, heard) in results)
        {
            heard.Should().BeApproximately(expected, expected * 0.08, "each session hears its own voice back");
        }

        host.Emulator.Connections.Should().HaveCount(10);
    }
}
