using VoiceChat.Tests.Infrastructure;

namespace VoiceChat.Tests.EndToEnd;

public sealed class ConcurrentSessionsTests
{
    [Fact]
    public async Task Ten_concurrent_sessions_each_complete_a_turn_and_hear_only_their_own_audio()
    {
        await using var host = await VoiceChatTestHost.StartAsync();

        var results = await Task.WhenAll(Enumerable.Range(0, 10).Select(async i =>
        {
            var frequency = 200 + (40 * i);
            await using var client = await host.ConnectAsync();
            await client.StartAsync($"user-{i}");
            await client.StreamAsync(Pcm.Concat(Pcm.Speech(1.2, frequency), Pcm.Silence(1.0)));
            await client.WaitForAsync("turn_complete");
            return (Expected: frequency, Heard: Pcm.EstimateFrequency(client.Audio.ToArray(), 24000));
        }));

        foreach (var (expected, heard) in results)
        {
            heard.Should().BeApproximately(expected, expected * 0.08, "each session hears its own voice back");
        }

        host.Emulator.Connections.Should().HaveCount(10);
    }
}
