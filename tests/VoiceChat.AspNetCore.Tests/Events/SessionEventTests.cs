using System.ComponentModel;
using System.Net.WebSockets;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using VoiceChat.Sessions.Events;
using VoiceChat.Testing;
using VoiceChat.Tests.Infrastructure;

namespace VoiceChat.Tests.Events;

/// <summary>The app's session events, from a real voice turn through the relay and the emulator.</summary>
public sealed class SessionEventTests
{
    [Fact]
    public async Task A_voice_turn_raises_started_transcripts_usage_and_ended_in_order()
    {
        await using var host = await VoiceChatTestHost.StartAsync(services: (_, voiceChat) => voiceChat.AddSessionEventHandler<RecordingEventHandler>());
        var recorder = host.App.Services.GetServices<IVoiceSessionEventHandler>().OfType<RecordingEventHandler>().Single();

        await using var client = await SpeakOneTurnAndEndAsync(host, ""","session_id":"events-1","metadata":{"app":"test","screen":"home"}""");
        await recorder.WaitForEndAsync();

        var events = recorder.Events;
        events.Select(Describe).Should().Equal("started", "transcript:User", "transcript:Assistant", "usage", "ended");
        events.Should().OnlyContain(e => e.SessionId == "events-1" && e.UserId == "u1");

        var started = (VoiceSessionStarted)events[0];
        started.Resumed.Should().BeFalse();
        started.IsUserVerified.Should().BeFalse("an anonymous client's user_id is not verified");
        started.Metadata.Should().BeEquivalentTo(new Dictionary<string, string> { ["app"] = "test", ["screen"] = "home" });

        // The final transcripts are the ones the client got with final:true.
        var finals = client.Messages
            .Where(m => m.GetProperty("type").GetString() == "transcript" && m.GetProperty("final").GetBoolean())
            .Select(m => m.GetProperty("text").GetString())
            .ToList();
        ((VoiceSessionTranscript)events[1]).Text.Should().Be(finals[0]).And.Contain("heard");
        ((VoiceSessionTranscript)events[2]).Text.Should().Be(finals[1]).And.StartWith("Turn 1:");

        var usage = (VoiceSessionUsage)events[3];
        usage.PromptTokens.Should().BePositive();
        usage.ResponseTokens.Should().BePositive();
        usage.TotalTokens.Should().Be(usage.PromptTokens + usage.ResponseTokens);
        usage.PromptTokensByModality.Should().Equal(new Dictionary<string, int> { ["AUDIO"] = usage.PromptTokens });
        usage.ResponseTokensByModality.Should().Equal(new Dictionary<string, int> { ["AUDIO"] = usage.ResponseTokens });

        var ended = (VoiceSessionEnded)events[4];
        ended.Reason.Should().Be("client_ended");
        ended.Duration.Should().BePositive();
        ended.InputAudio.Should().Be(TimeSpan.FromSeconds(3), "3 s of 16 kHz audio went to the model");
        ended.OutputAudio.Should().Be(TimeSpan.FromSeconds(client.Audio.Length / 48_000.0), "every byte of the model's 24 kHz speech reached the client");
        events.Select(e => e.Timestamp).Should().BeInAscendingOrder();
    }

    [Fact]
    public async Task A_handler_that_throws_gets_every_event_and_the_session_is_untouched()
    {
        var logs = new LogCapture();
        await using var host = await VoiceChatTestHost.StartAsync(services: (builder, voiceChat) =>
        {
            builder.Logging.AddProvider(logs);
            voiceChat.AddSessionEventHandler<ThrowingEventHandler>().AddSessionEventHandler<RecordingEventHandler>();
        });
        var handlers = host.App.Services.GetServices<IVoiceSessionEventHandler>().ToList();
        var throwing = handlers.OfType<ThrowingEventHandler>().Single();
        var after = (RecordingEventHandler)handlers.Single(h => h.GetType() == typeof(RecordingEventHandler));

        await using var client = await SpeakOneTurnAndEndAsync(host);
        await after.WaitForEndAsync();

        AssertWholeTurnArrived(host, client);
        throwing.Events.Select(Describe).Should().Equal("started", "transcript:User", "transcript:Assistant", "usage", "ended");
        after.Events.Select(Describe).Should().Equal(throwing.Events.Select(Describe), "a handler's failure does not keep the event from the next one");
        logs.Entries.Count(e => e.Contains("SessionEventHandlerFailed", StringComparison.Ordinal) && e.Contains("failed on purpose", StringComparison.Ordinal))
            .Should().Be(5);
        host.App.Services.GetRequiredService<SessionEventHub>().Dropped.Should().Be(0);
    }

    [Fact]
    public async Task A_handler_that_blocks_loses_events_not_audio_and_the_drops_are_counted()
    {
        var logs = new LogCapture();
        var droppedBefore = SessionEventCounters.TotalDropped;
        await using var host = await VoiceChatTestHost.StartAsync(
            o =>
            {
                o.Events.QueueCapacity = 1;
                o.Events.DrainTimeout = TimeSpan.FromSeconds(1);
            },
            services: (builder, voiceChat) =>
            {
                builder.Logging.AddProvider(logs);
                voiceChat.AddSessionEventHandler<BlockingEventHandler>();
            });
        var blocking = host.App.Services.GetServices<IVoiceSessionEventHandler>().OfType<BlockingEventHandler>().Single();
        var hub = host.App.Services.GetRequiredService<SessionEventHub>();

        await using var client = await SpeakOneTurnAndEndAsync(host);

        AssertWholeTurnArrived(host, client);
        await blocking.Released.WaitAsync(TimeSpan.FromSeconds(30));

        // Five events: the one the handler holds is never finished; one waits in the queue of one and
        // is dropped when the delivery time after the end runs out; the other three find the queue full.
        await Eventually.TrueAsync(() => hub.Dropped == 4);
        SessionEventCounters.TotalDropped.Should().BeGreaterThanOrEqualTo(droppedBefore + 4);
        await Eventually.TrueAsync(() => logs.Entries.Any(e => e.Contains("SessionEventsDropped", StringComparison.Ordinal)));
        logs.Entries.Should().Contain(e => e.Contains("SessionEventQueueFull", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Stopping_the_host_waits_for_the_ended_sessions_events_to_be_delivered()
    {
        await using var host = await VoiceChatTestHost.StartAsync(services: (_, voiceChat) => voiceChat.AddSessionEventHandler<SlowEventHandler>());
        var slow = host.App.Services.GetServices<IVoiceSessionEventHandler>().OfType<SlowEventHandler>().Single();
        await using var client = await SpeakOneTurnAndEndAsync(host);

        using (var stopping = new CancellationTokenSource(TimeSpan.FromSeconds(30)))
        {
            await host.App.StopAsync(stopping.Token);
        }

        slow.Events.Select(Describe).Should().Equal("started", "transcript:User", "transcript:Assistant", "usage", "ended");
    }

    [Fact]
    public async Task A_tool_call_is_raised_with_its_id_outcome_and_duration()
    {
        await using var host = await VoiceChatTestHost.StartAsync(
            emulator: o => o.ToolCallRules.Add(new EmulatorToolCallRule { WhenTextContains = "weather", ToolName = "get_weather", ArgumentsJson = """{"city":"Paris"}""" }),
            services: (_, voiceChat) => voiceChat
                .AddTool(AIFunctionFactory.Create(([Description("The city")] string city) => $"Sunny in {city}", "get_weather", "Gets the weather for a city."))
                .AddSessionEventHandler<RecordingEventHandler>());
        var recorder = host.App.Services.GetServices<IVoiceSessionEventHandler>().OfType<RecordingEventHandler>().Single();
        await using var client = await host.ConnectAsync();
        await client.StartAsync();

        await client.SendJsonAsync("""{"type":"text","text":"What's the weather in Paris?"}""");
        (await client.WaitForAsync("tool_call")).GetProperty("status").GetString().Should().Be("started");
        (await client.WaitForAsync("tool_call")).GetProperty("status").GetString().Should().Be("completed");
        await client.WaitForAsync("turn_complete");
        await client.SendJsonAsync("""{"type":"end_session"}""");
        await client.WaitForCloseAsync();
        await recorder.WaitForEndAsync();

        var call = recorder.Events.OfType<VoiceSessionToolCall>().Should().ContainSingle().Subject;
        call.Name.Should().Be("get_weather");
        call.CallId.Should().Be(host.Emulator.Connections.Single().ToolResponses.Single().Id);
        call.Outcome.Should().Be(VoiceToolCallOutcome.Succeeded);
        call.Duration.Should().BeGreaterThanOrEqualTo(TimeSpan.Zero);
        recorder.Events.OfType<VoiceSessionTranscript>().Should().Contain(t => t.Speaker == VoiceSpeaker.Assistant && t.Text.Contains("Sunny in Paris", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Speaking_over_the_model_raises_an_interruption()
    {
        await using var host = await VoiceChatTestHost.StartAsync(services: (_, voiceChat) => voiceChat.AddSessionEventHandler<RecordingEventHandler>());
        var recorder = host.App.Services.GetServices<IVoiceSessionEventHandler>().OfType<RecordingEventHandler>().Single();
        await using var client = await host.ConnectAsync();
        await client.StartAsync();
        await client.StreamAsync(Pcm.Concat(Pcm.Speech(3.0), Pcm.Silence(0.8)));
        while ((await client.NextAsync()).Audio is null)
        {
        }

        await client.StreamAsync(Pcm.Concat(Pcm.Speech(1.0, 500), Pcm.Silence(0.8)));
        await client.WaitForAsync("interrupted");
        await client.SendJsonAsync("""{"type":"end_session"}""");
        await client.WaitForCloseAsync();
        await recorder.WaitForEndAsync();

        var kinds = recorder.Events.Select(Describe).ToList();
        kinds.Should().ContainSingle(k => k == "interrupted");
        kinds.IndexOf("interrupted").Should().BeGreaterThan(kinds.IndexOf("transcript:User")).And.BeLessThan(kinds.IndexOf("ended"));
    }

    [Fact]
    public async Task A_connection_that_resumes_on_the_same_instance_raises_no_second_start()
    {
        await using var host = await VoiceChatTestHost.StartAsync(
            o => o.Resume.Window = TimeSpan.FromSeconds(1),
            services: (_, voiceChat) => voiceChat.AddSessionEventHandler<RecordingEventHandler>());
        var recorder = host.App.Services.GetServices<IVoiceSessionEventHandler>().OfType<RecordingEventHandler>().Single();
        await using var client = new ResumingClient(host.VoiceUrl);
        await client.ConnectAsync();
        await SpeakAsync(client);
        await client.WaitForAsync("turn_complete");

        await client.CutAsync();
        (await client.ConnectAsync()).GetProperty("resumed").GetBoolean().Should().BeTrue();
        await SpeakAsync(client);
        await client.WaitForAsync("turn_complete", skip: 1);
        await client.CutAsync(); // and not back within the resume window
        await recorder.WaitForEndAsync();

        recorder.Events.Select(Describe).Should().Equal(
            "started", "transcript:User", "transcript:Assistant", "usage",
            "transcript:User", "transcript:Assistant", "usage", "ended");
        ((VoiceSessionStarted)recorder.Events[0]).Resumed.Should().BeFalse();
        ((VoiceSessionEnded)recorder.Events[^1]).Reason.Should().Be("client_gone");
        ((VoiceSessionEnded)recorder.Events[^1]).InputAudio.Should().Be(TimeSpan.FromSeconds(client.AllSent().Length / 32_000.0), "each frame reached the model once across both connections");
    }

    [Fact]
    public async Task A_conversation_taken_over_by_another_instance_ends_on_the_first_and_starts_resumed_on_the_second()
    {
        var conversations = new EmulatorConversations();
        await using var redis = await RedisServer.StartAsync();
        await using var a = await StartSharingAsync(redis, conversations);
        await using var b = await StartSharingAsync(redis, conversations);
        var onA = a.App.Services.GetServices<IVoiceSessionEventHandler>().OfType<RecordingEventHandler>().Single();
        var onB = b.App.Services.GetServices<IVoiceSessionEventHandler>().OfType<RecordingEventHandler>().Single();
        await using var client = new ResumingClient(a.VoiceUrl, "mover");
        var sessionId = (await client.ConnectAsync()).GetProperty("session_id").GetString();
        await SpeakAsync(client);
        await client.WaitForAsync("turn_complete");

        var stopping = a.App.StopAsync();
        await client.WaitForAsync("going_away");
        await client.CutAsync();
        await stopping;
        client.Url = b.VoiceUrl;
        (await client.ConnectAsync()).GetProperty("resumed").GetBoolean().Should().BeTrue();
        await Eventually.TrueAsync(() => onB.Events.Count > 0);
        var stoppingB = b.App.StopAsync();
        await client.WaitForAsync("going_away", skip: 1);
        await client.CutAsync();
        await stoppingB;

        onA.Events.Select(Describe).Should().Equal("started", "transcript:User", "transcript:Assistant", "usage", "ended");
        ((VoiceSessionStarted)onA.Events[0]).Resumed.Should().BeFalse();
        ((VoiceSessionEnded)onA.Events[^1]).Reason.Should().Be("server_shutting_down");
        onB.Events.Select(Describe).Should().Equal("started", "ended");
        var resumed = (VoiceSessionStarted)onB.Events[0];
        resumed.Resumed.Should().BeTrue();
        resumed.UserId.Should().Be("mover");
        onA.Events.Concat(onB.Events).Should().OnlyContain(e => e.SessionId == sessionId);
    }

    [Fact]
    public async Task Without_a_handler_no_queue_is_opened()
    {
        await using var host = await VoiceChatTestHost.StartAsync();

        host.App.Services.GetRequiredService<SessionEventHub>().Open("any").Should().BeNull();
    }

    private static Task<VoiceChatTestHost> StartSharingAsync(RedisServer redis, EmulatorConversations conversations) =>
        VoiceChatTestHost.StartAsync(
            o => o.Resume.Redis = redis.Configuration,
            emulator: e => e.Conversations = conversations,
            services: (_, voiceChat) => voiceChat.AddSessionEventHandler<RecordingEventHandler>());

    private static Task SpeakAsync(ResumingClient client) => client.SayAsync(Pcm.Concat(Pcm.Speech(0.8), Pcm.Silence(0.8)));

    /// <summary>One spoken turn (2 s of speech, 1 s of silence), then <c>end_session</c>; the caller disposes the client.</summary>
    private static async Task<VoiceClient> SpeakOneTurnAndEndAsync(VoiceChatTestHost host, string startFields = "")
    {
        var client = await host.ConnectAsync();
        await client.StartAsync("u1", startFields);
        await client.StreamAsync(Pcm.Concat(Pcm.Speech(2.0, 300), Pcm.Silence(1.0)));
        await client.WaitForAsync("turn_complete");
        await client.SendJsonAsync("""{"type":"end_session"}""");
        (await client.WaitForCloseAsync()).Should().Be(WebSocketCloseStatus.NormalClosure);
        return client;
    }

    /// <summary>Every microphone frame reached the model, and the model's whole reply reached the client.</summary>
    private static void AssertWholeTurnArrived(VoiceChatTestHost host, VoiceClient client)
    {
        host.Emulator.Connections.Single().AudioBytesReceived.Should().Be(3 * 32000);
        client.Audio.Length.Should().BeInRange(80_000, 110_000);
        Pcm.EstimateFrequency(client.Audio.ToArray(), 24000).Should().BeApproximately(300, 30);
        client.Messages.Last(m => m.GetProperty("type").GetString() != "session_ended").GetProperty("type").GetString().Should().Be("turn_complete");
    }

    private static string Describe(VoiceSessionEvent e) => e switch
    {
        VoiceSessionStarted => "started",
        VoiceSessionTranscript t => $"transcript:{t.Speaker}",
        VoiceSessionUsage => "usage",
        VoiceSessionToolCall => "tool_call",
        VoiceSessionInterrupted => "interrupted",
        VoiceSessionEnded => "ended",
        _ => e.GetType().Name,
    };
}
