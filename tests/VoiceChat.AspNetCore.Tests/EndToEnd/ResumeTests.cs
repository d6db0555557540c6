using Microsoft.Extensions.DependencyInjection;
using VoiceChat.Sessions.Resume;
using VoiceChat.Tests.Infrastructure;

namespace VoiceChat.Tests.EndToEnd;

/// <summary>A session that outlives its client connection on the same instance: real sockets, the emulator as the model.</summary>
public sealed class ResumeTests
{
    private const int FrameBytes = 640; // 20 ms at 16 kHz

    [Fact]
    public async Task A_cut_connection_resumes_with_every_byte_each_way_exactly_once_and_in_order()
    {
        await using var host = await VoiceChatTestHost.StartAsync(emulator: e => e.EchoAudio = true);
        await using var client = new ResumingClient(host.VoiceUrl);
        (await client.ConnectAsync()).GetProperty("resumed").GetBoolean().Should().BeFalse();
        var upstream = await host.Emulator.WaitForConnectionAsync();

        for (var i = 0; i < 40; i++)
        {
            await client.SendAudioAsync(Frame(i));
        }

        await client.WaitForAudioAsync(20 * FrameBytes); // the model is answering: cut mid-reply
        await client.CutAsync();
        var receivedBeforeCut = client.Received;
        for (var i = 40; i < 60; i++)
        {
            await client.SendAudioAsync(Frame(i)); // offline: kept for the resume
        }

        var resumed = await client.ConnectAsync();

        resumed.GetProperty("resumed").GetBoolean().Should().BeTrue();
        resumed.GetProperty("replay_from").GetInt64().Should().Be(receivedBeforeCut + 1, "nothing the client missed was dropped");
        for (var i = 60; i < 80; i++)
        {
            await client.SendAudioAsync(Frame(i));
        }

        var sent = client.AllSent();
        await client.WaitForAudioAsync(sent.Length);
        await Eventually.TrueAsync(() => upstream.AudioBytesReceived >= sent.Length);
        // The model echoes each chunk it receives as it receives it: the client hearing exactly what it
        // sent means every microphone byte reached the model once and in order, and every byte of the
        // model's answer reached the client once and in order, across both connections.
        client.Audio.ToArray().Should().Equal(sent);
        upstream.AudioBytesReceived.Should().Be(sent.Length);
        host.Emulator.Connections.Should().ContainSingle("the model connection stayed open through the cut");
    }

    [Fact]
    public async Task After_a_resume_the_model_remembers_the_conversation()
    {
        await using var host = await VoiceChatTestHost.StartAsync();
        await using var client = new ResumingClient(host.VoiceUrl);
        await client.ConnectAsync();
        await SpeakAsync(client);
        await client.WaitForAsync("turn_complete");

        var transcriptsBefore = client.CountOf("transcript");
        await SpeakAsync(client);
        await client.WaitForAsync("transcript", skip: transcriptsBefore); // the second turn is under way
        await client.CutAsync();
        (await client.ConnectAsync()).GetProperty("resumed").GetBoolean().Should().BeTrue();
        await client.WaitForAsync("turn_complete", skip: 1);

        await SpeakAsync(client);
        await client.WaitForAsync("turn_complete", skip: 2);
        client.Messages
            .Where(m => m.GetProperty("type").GetString() == "transcript" && m.GetProperty("role").GetString() == "assistant" && m.GetProperty("final").GetBoolean())
            .Select(m => m.GetProperty("text").GetString()!.Split(':')[0])
            .Should().Equal(["Turn 1", "Turn 2", "Turn 3"], "the model's turn counter goes on across the resume, each reply told once");
    }

    [Fact]
    public async Task A_token_resumes_once_only_for_its_user_and_not_after_the_window()
    {
        await using var host = await VoiceChatTestHost.StartAsync(o => o.Resume.Window = TimeSpan.FromSeconds(60));
        var conversations = host.App.Services.GetRequiredService<VoiceConversationDirectory>();
        await using var owner = await host.ConnectAsync();
        var first = await owner.StartAsync("alice");
        var firstToken = first.GetProperty("resume_token").GetString()!;
        owner.Socket.Abort();
        await Eventually.TrueAsync(() => conversations.DetachedCount == 1);

        // Another user with the right token: a fresh session, and the hidden one is left alone.
        await using (var stranger = await host.ConnectAsync())
        {
            var started = await stranger.StartAsync("mallory", $$""","resume_token":"{{firstToken}}" """);
            started.GetProperty("resumed").GetBoolean().Should().BeFalse();
            started.GetProperty("resume_failed").GetString().Should().Be("token_not_found");
            started.GetProperty("session_id").GetString().Should().NotBe(first.GetProperty("session_id").GetString());
        }

        await using var back = await host.ConnectAsync();
        var resumed = await back.StartAsync("alice", $$""","resume_token":"{{firstToken}}" """);
        resumed.GetProperty("resumed").GetBoolean().Should().BeTrue();
        resumed.GetProperty("session_id").GetString().Should().Be(first.GetProperty("session_id").GetString());
        resumed.GetProperty("resume_token").GetString().Should().NotBe(firstToken, "each resume issues a new token");

        await using var replay = await host.ConnectAsync();
        var again = await replay.StartAsync("alice", $$""","resume_token":"{{firstToken}}" """);
        again.GetProperty("resumed").GetBoolean().Should().BeFalse("a token is single-use");
        again.GetProperty("resume_failed").GetString().Should().Be("token_not_found");
    }

    [Fact]
    public async Task A_token_after_the_window_starts_a_fresh_session()
    {
        await using var host = await VoiceChatTestHost.StartAsync(o => o.Resume.Window = TimeSpan.FromMilliseconds(200));
        var conversations = host.App.Services.GetRequiredService<VoiceConversationDirectory>();
        await using var owner = await host.ConnectAsync();
        var token = (await owner.StartAsync()).GetProperty("resume_token").GetString()!;
        owner.Socket.Abort();
        await Eventually.TrueAsync(() => conversations.Count == 0); // the window passed

        await using var late = await host.ConnectAsync();
        var started = await late.StartAsync("u1", $$""","resume_token":"{{token}}" """);

        started.GetProperty("resumed").GetBoolean().Should().BeFalse();
        started.GetProperty("resume_failed").GetString().Should().Be("token_not_found");
    }

    [Fact]
    public async Task A_client_that_does_not_count_gets_what_the_model_said_while_it_was_away()
    {
        await using var host = await VoiceChatTestHost.StartAsync();
        var conversations = host.App.Services.GetRequiredService<VoiceConversationDirectory>();
        await using var client = await host.ConnectAsync();
        var token = (await client.StartAsync()).GetProperty("resume_token").GetString()!;
        await client.StreamAsync(Pcm.Concat(Pcm.Speech(1.0), Pcm.Silence(0.6)));
        await client.WaitForAsync("transcript"); // the reply has begun
        client.Socket.Abort();
        await Eventually.TrueAsync(() => conversations.DetachedCount == 1);

        await using var back = await host.ConnectAsync();
        var started = await back.StartAsync("u1", $$""","resume_token":"{{token}}" """);

        started.GetProperty("resumed").GetBoolean().Should().BeTrue();
        await back.WaitForAsync("turn_complete"); // the end of the reply, kept while nobody listened
    }

    private static async Task SpeakAsync(ResumingClient client)
    {
        var speech = Pcm.Concat(Pcm.Speech(0.6), Pcm.Silence(0.7));
        for (var offset = 0; offset < speech.Length; offset += FrameBytes)
        {
            await client.SendAudioAsync(speech.AsSpan(offset, Math.Min(FrameBytes, speech.Length - offset)).ToArray());
        }
    }

    /// <summary>20 ms of PCM16 whose every sample says which frame it belongs to, so order and duplicates show.</summary>
    private static byte[] Frame(int index)
    {
        var frame = new byte[FrameBytes];
        for (var i = 0; i < FrameBytes; i += 2)
        {
            BitConverter.TryWriteBytes(frame.AsSpan(i), (short)((index * 331) + i));
        }

        return frame;
    }
}
