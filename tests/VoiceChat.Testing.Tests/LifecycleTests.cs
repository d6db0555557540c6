using System.Net.WebSockets;

namespace VoiceChat.Testing.Tests;

public sealed class LifecycleTests
{
    [Fact]
    public async Task Go_away_comes_after_the_configured_lifetime_then_the_deadline_close()
    {
        await using var emulator = await Emulators.StartAsync(o =>
        {
            o.GoAwayAfter = TimeSpan.FromMilliseconds(200);
            o.GoAwayTimeLeft = TimeSpan.FromSeconds(1);
        });
        await using var client = await LiveTestClient.StartAsync(emulator);

        var goAway = await client.NextAsync(m => m.Has("goAway"));
        goAway.Root.GetProperty("goAway").GetProperty("timeLeft").GetString().Should().Be("1s");
        await client.WaitForCloseAsync();

        client.CloseStatus.Should().Be(WebSocketCloseStatus.InternalServerError);
        client.CloseDescription.Should().Be("Deadline expired before operation could complete.");
    }

    [Fact]
    public async Task Go_away_can_be_sent_on_demand()
    {
        await using var emulator = await Emulators.StartAsync();
        await using var client = await LiveTestClient.StartAsync(emulator);

        await emulator.SendGoAwayAsync(TimeSpan.FromSeconds(2));

        (await client.NextAsync(m => m.Has("goAway"))).Root.GetProperty("goAway").GetProperty("timeLeft").GetString().Should().Be("2s");
        await client.WaitForCloseAsync();
        client.CloseStatus.Should().Be(WebSocketCloseStatus.InternalServerError);
    }

    public static TheoryData<EmulatorFault, WebSocketCloseStatus, string> Closes => new()
    {
        { EmulatorFault.InternalError, WebSocketCloseStatus.InternalServerError, "Internal error occurred." },
        { EmulatorFault.ServiceUnavailable, WebSocketCloseStatus.InternalServerError, "The service is currently unavailable." },
        { EmulatorFault.DeadlineExceeded, WebSocketCloseStatus.InternalServerError, "Deadline expired before operation could complete." },
        { EmulatorFault.ResourceExhausted, WebSocketCloseStatus.InternalServerError, "Resource has been exhausted (e.g. check quota)." },
        { EmulatorFault.InvalidArgument, WebSocketCloseStatus.InvalidPayloadData, "Request contains an invalid argument." },
        { EmulatorFault.ModelNotFound, WebSocketCloseStatus.PolicyViolation, "models/gemini-2.5-flash-native-audio-preview-12-2025 is not found for API version v1beta, or is not supported for bidiGener" },
        { EmulatorFault.LocationNotSupported, WebSocketCloseStatus.InvalidPayloadData, "User location is not supported for the API use." },
        { EmulatorFault.AuthenticationFailed, WebSocketCloseStatus.InvalidPayloadData, "API key not valid. Please pass a valid API key." },
        { EmulatorFault.ApiKeyExpired, WebSocketCloseStatus.InvalidPayloadData, "API key expired. Please renew the API key." },
        { EmulatorFault.SessionNotFound, WebSocketCloseStatus.PolicyViolation, "BidiGenerateContent session not found" },
    };

    [Theory]
    [MemberData(nameof(Closes))]
    public async Task Each_fault_closes_like_google(EmulatorFault fault, WebSocketCloseStatus status, string reason)
    {
        await using var emulator = await Emulators.StartAsync();
        await using var client = await LiveTestClient.StartAsync(emulator);

        await emulator.Connections[0].InjectFaultAsync(fault);
        await client.WaitForCloseAsync();

        client.CloseStatus.Should().Be(status);
        client.CloseDescription.Should().Be(reason);
        emulator.Connections[0].CloseStatus.Should().Be(status);
        emulator.Connections[0].CloseDescription.Should().Be(reason);
    }

    [Fact]
    public async Task An_abrupt_drop_sends_no_close_frame()
    {
        await using var emulator = await Emulators.StartAsync();
        await using var client = await LiveTestClient.StartAsync(emulator);

        await emulator.InjectFaultAsync(EmulatorFault.AbruptDrop);
        await client.WaitForCloseAsync();

        client.Aborted.Should().BeTrue();
        client.CloseStatus.Should().BeNull();
        emulator.Connections[0].Dropped.Should().BeTrue();
        emulator.Connections[0].CloseStatus.Should().BeNull();
    }

    [Fact]
    public async Task A_mid_turn_fault_hits_while_the_reply_is_streaming()
    {
        await using var emulator = await Emulators.StartAsync(o => o.MidTurnFault = EmulatorFault.InternalError);
        await using var client = await LiveTestClient.StartAsync(emulator);

        await client.StreamAudioAsync(TestAudio.Utterance(TimeSpan.FromSeconds(1)));
        var messages = await client.WaitForCloseAsync();

        messages.Should().Contain(m => m.Audio != null);
        messages.Should().NotContain(m => m.IsTurnComplete);
        client.CloseStatus.Should().Be(WebSocketCloseStatus.InternalServerError);
        client.CloseDescription.Should().Be("Internal error occurred.");
    }

    [Fact]
    public async Task A_mid_turn_drop_aborts_the_connection()
    {
        await using var emulator = await Emulators.StartAsync(o => o.MidTurnFault = EmulatorFault.AbruptDrop);
        await using var client = await LiveTestClient.StartAsync(emulator);

        await client.StreamAudioAsync(TestAudio.Utterance(TimeSpan.FromSeconds(1)));
        var messages = await client.WaitForCloseAsync();

        messages.Should().Contain(m => m.Audio != null);
        client.Aborted.Should().BeTrue();
    }

    [Fact]
    public async Task A_setup_fault_replaces_setup_complete()
    {
        await using var emulator = await Emulators.StartAsync(o => o.SetupFault = EmulatorFault.LocationNotSupported);
        await using var client = await LiveTestClient.ConnectDeveloperAsync(emulator);

        await client.SendAsync($$$"""{"setup":{"model":"models/{{{LiveTestClient.Model25}}}"}}""");
        var messages = await client.WaitForCloseAsync();

        messages.Should().BeEmpty();
        client.CloseStatus.Should().Be(WebSocketCloseStatus.InvalidPayloadData);
        client.CloseDescription.Should().Be("User location is not supported for the API use.");
    }

    [Fact]
    public async Task Delayed_pongs_trip_a_client_keep_alive_timeout()
    {
        await using var emulator = await Emulators.StartAsync(o => o.PongDelay = TimeSpan.FromSeconds(30));
        await using var client = await LiveTestClient.ConnectAsync(LiveTestClient.Address(emulator, LiveTestClient.DeveloperPath + "?key=k"), o =>
        {
            o.KeepAliveInterval = TimeSpan.FromMilliseconds(200);
            o.KeepAliveTimeout = TimeSpan.FromMilliseconds(500);
        });

        await client.WaitForCloseAsync();

        client.Aborted.Should().BeTrue();
    }

    [Fact]
    public async Task Without_pong_delay_the_same_client_keep_alive_holds()
    {
        await using var emulator = await Emulators.StartAsync();
        await using var client = await LiveTestClient.ConnectAsync(LiveTestClient.Address(emulator, LiveTestClient.DeveloperPath + "?key=k"), o =>
        {
            o.KeepAliveInterval = TimeSpan.FromMilliseconds(200);
            o.KeepAliveTimeout = TimeSpan.FromMilliseconds(500);
        });
        await client.SendAsync($$$"""{"setup":{"model":"models/{{{LiveTestClient.Model25}}}"}}""");
        await client.NextAsync(m => m.Has("setupComplete"));

        await Task.Delay(TimeSpan.FromSeconds(2));
        await client.SendAsync("""{"realtimeInput":{"text":"still here"}}""");

        await client.NextAsync(m => m.IsTurnComplete);
        client.Aborted.Should().BeFalse();
    }
}
