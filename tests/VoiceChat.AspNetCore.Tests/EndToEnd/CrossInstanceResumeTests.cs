using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using VoiceChat.Testing;
using VoiceChat.Tests.Infrastructure;

namespace VoiceChat.Tests.EndToEnd;

/// <summary>
/// A conversation that moves to another instance: two sample servers in processes of their own, one
/// real redis-server, one emulator as the model (its conversations are found by resumption handle);
/// where a test needs one clock for both instances, two in-process hosts whose emulators share conversations.
/// </summary>
public sealed class CrossInstanceResumeTests
{
    [Fact]
    public Task After_SIGTERM_the_client_is_told_to_go_and_resumes_on_another_instance_with_the_model_remembering() =>
        MoveAsync(static instance => instance.TerminateAsync(), expectGoingAway: true);

    [Fact]
    public Task After_SIGKILL_the_client_resumes_on_another_instance_from_the_last_stored_handle() =>
        MoveAsync(static instance => instance.KillAsync(), expectGoingAway: false);

    [Fact]
    public async Task A_session_that_ended_cannot_be_resumed_on_another_instance()
    {
        await using var redis = await RedisServer.StartAsync();
        await using var a = await VoiceChatTestHost.StartAsync(o => o.Resume.Redis = redis.Configuration);
        await using var b = await VoiceChatTestHost.StartAsync(o => o.Resume.Redis = redis.Configuration);
        string token;
        await using (var client = await a.ConnectAsync())
        {
            token = (await client.StartAsync()).GetProperty("resume_token").GetString()!;
            await client.SendJsonAsync("""{"type":"end_session"}""");
            await client.WaitForAsync("session_ended");
        }

        await using var late = await b.ConnectAsync();
        var started = await late.StartAsync("u1", $$""","resume_token":"{{token}}" """);

        started.GetProperty("resumed").GetBoolean().Should().BeFalse();
        started.GetProperty("resume_failed").GetString().Should().Be("token_not_found");
    }

    [Fact]
    public async Task A_conversation_taken_over_by_another_instance_keeps_the_time_it_had_left()
    {
        // One clock for both instances: the conversation runs 9 of its 10 minutes on the first, then
        // moves; on the second it must end after the 1 minute left, not after 10 more.
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var conversations = new EmulatorConversations();
        await using var redis = await RedisServer.StartAsync();
        await using var a = await StartInProcessAsync(redis, time, conversations);
        await using var b = await StartInProcessAsync(redis, time, conversations);
        await using var client = new ResumingClient(a.VoiceUrl);
        var first = await client.ConnectAsync();

        time.Advance(TimeSpan.FromMinutes(9));
        var stopping = a.App.StopAsync(); // stores the conversation, then tells the client to go
        await client.WaitForAsync("going_away");
        await client.CutAsync(); // the drain waits for the client on the test's clock otherwise
        await stopping;
        client.Url = b.VoiceUrl;
        var resumed = await client.ConnectAsync();
        resumed.GetProperty("resumed").GetBoolean().Should().BeTrue();
        resumed.GetProperty("session_id").GetString().Should().Be(first.GetProperty("session_id").GetString());
        var resumedAt = client.Messages.Count;

        time.Advance(TimeSpan.FromMinutes(1) + TimeSpan.FromSeconds(1));

        var ended = await client.WaitForAsync(m => m.GetProperty("type").GetString() == "error", resumedAt);
        ended.GetProperty("code").GetString().Should().Be("max_duration");
    }

    private static Task<VoiceChatTestHost> StartInProcessAsync(RedisServer redis, FakeTimeProvider time, EmulatorConversations conversations) =>
        VoiceChatTestHost.StartAsync(
            o =>
            {
                o.Resume.Redis = redis.Configuration;
                o.MaxSessionDuration = TimeSpan.FromMinutes(10);
                o.IdleTimeout = TimeSpan.FromDays(1);
                o.KeepAliveInterval = TimeSpan.Zero;
                o.Gemini.KeepAliveInterval = TimeSpan.Zero;
            },
            emulator: e => e.Conversations = conversations,
            services: (builder, _) => builder.Services.AddSingleton<TimeProvider>(time));

    private static async Task MoveAsync(Func<DotnetProcess, Task> stop, bool expectGoingAway)
    {
        await using var redis = await RedisServer.StartAsync();
        await using var model = await LiveApiEmulator.StartAsync(new LiveApiEmulatorOptions { ExpectedApiKey = "test-key" });
        await using var a = await StartInstanceAsync(redis, model);
        await using var b = await StartInstanceAsync(redis, model);
        await using var client = new ResumingClient(VoiceUrl(a));
        var first = await client.ConnectAsync();

        await SpeakAsync(client);
        await client.WaitForAsync("turn_complete");
        var transcripts = client.CountOf("transcript");
        await SpeakAsync(client);
        await client.WaitForAsync("transcript", skip: transcripts); // the second turn is under way

        await stop(a);
        if (expectGoingAway)
        {
            (await client.WaitForAsync("going_away")).GetProperty("reason").GetString().Should().Be("server_shutting_down");
        }

        client.Url = VoiceUrl(b);
        var resumed = await client.ConnectAsync();

        resumed.GetProperty("resumed").GetBoolean().Should().BeTrue();
        resumed.GetProperty("session_id").GetString().Should().Be(first.GetProperty("session_id").GetString());
        var resumedAt = client.Messages.Count;
        await SpeakAsync(client);

        // The model resumes from its last resumable point (the end of the first turn): the client resends
        // what it said after that point, so the second utterance is heard again, then the third. A model
        // that had forgotten would count from 1 again.
        var reply = await client.WaitForAsync(
            m => m.GetProperty("type").GetString() == "transcript" && m.GetProperty("role").GetString() == "assistant" && m.GetProperty("final").GetBoolean(),
            resumedAt);
        var turn = int.Parse(reply.GetProperty("text").GetString()!.Split(':')[0]["Turn ".Length..], System.Globalization.CultureInfo.InvariantCulture);
        turn.Should().BeGreaterThanOrEqualTo(3, "the conversation went on with two turns behind it ({0})", string.Join(" | ", client.Messages.Select(m => m.GetRawText())));
        model.Connections.Select(c => c.ConversationId).Distinct().Should().ContainSingle("every model connection carried the same conversation");
    }

    private static Task<DotnetProcess> StartInstanceAsync(RedisServer redis, LiveApiEmulator model) =>
        DotnetProcess.StartAsync(
            "VoiceChat.Sample",
            "Now listening on:",
            ["--urls", "http://127.0.0.1:0"],
            new Dictionary<string, string>
            {
                ["ASPNETCORE_ENVIRONMENT"] = "Production",
                ["Logging__LogLevel__Default"] = "Warning",
                ["Logging__LogLevel__Microsoft.Hosting.Lifetime"] = "Information",
                ["VoiceChat__AllowAnonymous"] = "true",
                ["VoiceChat__Gemini__BaseUrl"] = model.BaseUrl.ToString(),
                ["VoiceChat__Gemini__ApiKey"] = "test-key",
                ["VoiceChat__Resume__Redis"] = redis.Configuration,
            });

    private static Uri VoiceUrl(DotnetProcess instance) => new($"ws://{instance.Url.Authority}/voice");

    private static async Task SpeakAsync(ResumingClient client)
    {
        const int FrameBytes = 640;
        var speech = Pcm.Concat(Pcm.Speech(0.6), Pcm.Silence(0.7));
        for (var offset = 0; offset < speech.Length; offset += FrameBytes)
        {
            await client.SendAudioAsync(speech.AsSpan(offset, Math.Min(FrameBytes, speech.Length - offset)).ToArray());
        }
    }
}
