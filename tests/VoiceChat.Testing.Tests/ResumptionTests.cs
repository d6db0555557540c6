using System.Net.WebSockets;

namespace VoiceChat.Testing.Tests;

public sealed class ResumptionTests
{
    private const string Resumable = ""","sessionResumption":{},"outputAudioTranscription":{}""";

    private static string? Handle(ServerMessage m) =>
        m.Root.TryGetProperty("sessionResumptionUpdate", out var u) && u.TryGetProperty("newHandle", out var h) ? h.GetString() : null;

    /// <summary>One typed turn on a new connection, which then closes: the handle issued after the turn.</summary>
    private static async Task<string> HandleAfterOneTurnAsync(LiveApiEmulator emulator)
    {
        string handle;
        await using (var client = await LiveTestClient.StartAsync(emulator, Resumable))
        {
            await client.SendAsync("""{"realtimeInput":{"text":"one"}}""");
            await client.NextAsync(m => m.IsTurnComplete);
            handle = Handle(await client.NextAsync(m => Handle(m) is not null))!;
        }

        await emulator.Connections[^1].Closed.WaitAsync(LiveTestClient.Timeout);
        return handle;
    }

    [Fact]
    public async Task Handles_are_issued_after_setup_and_at_turn_boundaries_with_not_resumable_during_generation()
    {
        await using var emulator = await Emulators.StartAsync();
        await using var client = await LiveTestClient.StartAsync(emulator, Resumable);

        var first = await client.NextAsync(m => m.Has("sessionResumptionUpdate"));
        Handle(first).Should().NotBeNullOrEmpty();
        first.Root.GetProperty("sessionResumptionUpdate").GetProperty("resumable").GetBoolean().Should().BeTrue();

        await client.SendAsync("""{"realtimeInput":{"text":"one"}}""");
        var turn = await client.CollectUntilAsync(m => m.IsTurnComplete);
        var during = turn.Where(m => m.Has("sessionResumptionUpdate")).ToList();
        during.Should().ContainSingle().Which.Root.GetProperty("sessionResumptionUpdate").GetProperty("resumable").GetBoolean().Should().BeFalse();
        var after = await client.NextAsync(m => m.Has("sessionResumptionUpdate"));
        Handle(after).Should().NotBeNullOrEmpty().And.NotBe(Handle(first));

        emulator.Connections[0].ResumptionHandlesIssued.Should().Equal(Handle(first), Handle(after));
    }

    [Fact]
    public async Task A_resumed_connection_continues_the_conversation()
    {
        await using var emulator = await Emulators.StartAsync();
        var handle = await HandleAfterOneTurnAsync(emulator);
        await using var resumed = await LiveTestClient.StartAsync(emulator, $$$""","sessionResumption":{"handle":"{{{handle}}}"},"outputAudioTranscription":{}""");
        await resumed.SendAsync("""{"realtimeInput":{"text":"two"}}""");
        var messages = await resumed.CollectUntilAsync(m => m.IsTurnComplete);

        string.Concat(messages.Select(m => m.Transcription(false)?.Text)).Should().StartWith("Turn 2:");
        var (before, now) = (emulator.Connections[0], emulator.Connections[1]);
        now.IsResumption.Should().BeTrue();
        now.ResumedHandle.Should().Be(handle);
        now.ConversationId.Should().Be(before.ConversationId);
        before.IsResumption.Should().BeFalse();
    }

    [Fact]
    public async Task Emulators_that_share_conversations_resume_each_others_handles_and_others_do_not()
    {
        var shared = new EmulatorConversations();
        await using var first = await Emulators.StartAsync(o => o.Conversations = shared);
        await using var second = await Emulators.StartAsync(o => o.Conversations = shared);
        await using var stranger = await Emulators.StartAsync();
        var handle = await HandleAfterOneTurnAsync(first);
        var resume = $$$""","sessionResumption":{"handle":"{{{handle}}}"},"outputAudioTranscription":{}""";
        await using (var elsewhere = await LiveTestClient.StartAsync(second, resume))
        {
            await elsewhere.SendAsync("""{"realtimeInput":{"text":"two"}}""");
            var messages = await elsewhere.CollectUntilAsync(m => m.IsTurnComplete);
            string.Concat(messages.Select(m => m.Transcription(false)?.Text)).Should().StartWith("Turn 2:");
            second.Connections[0].ConversationId.Should().Be(first.Connections[0].ConversationId);
        }

        await using var refused = await LiveTestClient.ConnectDeveloperAsync(stranger);
        await refused.SendAsync($$$$"""{"setup":{"model":"models/{{{{LiveTestClient.Model25}}}}","sessionResumption":{"handle":"{{{{handle}}}}"}}}""");
        await refused.WaitForCloseAsync();
        refused.CloseDescription.Should().Be("BidiGenerateContent session not found", "an emulator that does not share conversations does not know the handle");
    }

    [Fact]
    public async Task An_unknown_handle_is_session_not_found()
    {
        await using var emulator = await Emulators.StartAsync();
        await using var client = await LiveTestClient.ConnectDeveloperAsync(emulator);

        await client.SendAsync($$$$"""{"setup":{"model":"models/{{{{LiveTestClient.Model25}}}}","sessionResumption":{"handle":"nope"}}}""");
        await client.WaitForCloseAsync();

        client.CloseStatus.Should().Be(WebSocketCloseStatus.PolicyViolation);
        client.CloseDescription.Should().Be("BidiGenerateContent session not found");
    }

    [Fact]
    public async Task Resuming_while_the_previous_connection_is_open_is_an_internal_error()
    {
        await using var emulator = await Emulators.StartAsync();
        await using var client = await LiveTestClient.StartAsync(emulator, Resumable);
        var handle = Handle(await client.NextAsync(m => Handle(m) is not null))!;

        await using var second = await LiveTestClient.ConnectDeveloperAsync(emulator);
        await second.SendAsync($$$$"""{"setup":{"model":"models/{{{{LiveTestClient.Model25}}}}","sessionResumption":{"handle":"{{{{handle}}}}"}}}""");
        await second.WaitForCloseAsync();

        second.CloseStatus.Should().Be(WebSocketCloseStatus.InternalServerError);
        client.Socket.State.Should().Be(WebSocketState.Open);
    }

    [Fact]
    public async Task Transparent_resumption_is_refused_by_the_developer_api()
    {
        await using var emulator = await Emulators.StartAsync();
        await using var client = await LiveTestClient.ConnectDeveloperAsync(emulator);

        await client.SendAsync($$$$"""{"setup":{"model":"models/{{{{LiveTestClient.Model25}}}}","sessionResumption":{"transparent":true}}}""");
        await client.WaitForCloseAsync();

        client.CloseStatus.Should().Be(WebSocketCloseStatus.InvalidPayloadData);
    }
}
