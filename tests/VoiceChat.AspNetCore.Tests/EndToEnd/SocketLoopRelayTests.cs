using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using VoiceChat.Sockets;
using VoiceChat.Tests.Infrastructure;

namespace VoiceChat.Tests.EndToEnd;

/// <summary>Client → relay → emulator with both the client connections and the model connections on the socket loop.</summary>
public sealed class SocketLoopRelayTests : IAsyncLifetime
{
    private VoiceChatTestHost _host = null!;

    private SocketLoopGroup Loops => _host.App.Services.GetRequiredService<SocketLoopGroup>();

    public async Task InitializeAsync() => _host = await VoiceChatTestHost.StartAsync(
        services: (builder, _) => builder.WebHost.UseVoiceChatSocketLoop(o => o.LoopCount = 2),
        map: app =>
        {
            app.MapVoiceChat();
            app.MapGet("/id", (HttpContext context) => context.Connection.Id);
        });

    public async Task DisposeAsync() => await _host.DisposeAsync();

    [LinuxFact]
    public async Task A_spoken_turn_over_the_loop_gets_transcripts_and_24_kHz_audio_back()
    {
        using (var http = new HttpClient { BaseAddress = _host.BaseUrl })
        {
            (await http.GetStringAsync(new Uri("/id", UriKind.Relative))).Should().StartWith("L", "the loop transport serves the clients");
        }

        var opened = Loops.ConnectionsOpened;
        await using var client = await _host.ConnectAsync();
        await client.StartAsync();

        await client.StreamAsync(Pcm.Concat(Pcm.Speech(2.0, 300), Pcm.Silence(1.0)));
        await client.WaitForAsync("turn_complete");

        var transcripts = client.Messages.Where(m => m.GetProperty("type").GetString() == "transcript").ToList();
        transcripts.Should().Contain(t => t.GetProperty("role").GetString() == "user" && t.GetProperty("final").GetBoolean());
        transcripts.Should().Contain(t => t.GetProperty("role").GetString() == "assistant" && t.GetProperty("final").GetBoolean());
        var audio = client.Audio.ToArray();
        audio.Length.Should().BeInRange(80_000, 110_000);
        Pcm.EstimateFrequency(audio, 24000).Should().BeApproximately(300, 30);
        _host.Emulator.Connections.Single().AudioBytesReceived.Should().Be(3 * 32000);
        Loops.ConnectionsOpened.Should().Be(opened + 1, "the model connection was opened on the loop");
    }

    [LinuxFact]
    public async Task Ten_concurrent_sessions_over_the_loop_each_hear_only_their_own_audio()
    {
        var opened = Loops.ConnectionsOpened;

        var results = await _host.TalkAtOnceAsync(10);

        foreach (var (expected, heard) in results)
        {
            heard.Should().BeApproximately(expected, expected * 0.08, "each session hears its own voice back");
        }

        _host.Emulator.Connections.Should().HaveCount(10);
        Loops.ConnectionsOpened.Should().Be(opened + 10, "every model connection was opened on the loop");
    }
}
