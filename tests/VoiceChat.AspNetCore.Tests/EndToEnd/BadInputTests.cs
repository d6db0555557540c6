using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using VoiceChat.Tests.Infrastructure;

namespace VoiceChat.Tests.EndToEnd;

/// <summary>Every bad input gets its documented error and close behaviour, and never touches another session.</summary>
public sealed class BadInputTests : IAsyncLifetime
{
    private VoiceChatTestHost _host = null!;

    public async Task InitializeAsync() => _host = await VoiceChatTestHost.StartAsync(o => o.MaxFrameBytes = 8 * 1024);

    public async Task DisposeAsync() => await _host.DisposeAsync();

    public static TheoryData<string, bool, string> NonFatalInputs => new()
    {
        // input, send start_session first, expected code
        { "{not json", false, VoiceChatErrorCodes.InvalidJson },
        { "{not json", true, VoiceChatErrorCodes.InvalidJson },
        { """{"type":"dance"}""", true, VoiceChatErrorCodes.UnknownType },
        { """{"text":"no type"}""", true, VoiceChatErrorCodes.UnknownType },
        { """{"type":"text"}""", true, VoiceChatErrorCodes.InvalidMessage },
        { """{"type":"text","text":5}""", true, VoiceChatErrorCodes.InvalidMessage },
        { """{"type":"start_session"}""", false, VoiceChatErrorCodes.InvalidMessage },
        { """{"type":"start_session","user_id":["u"]}""", false, VoiceChatErrorCodes.InvalidMessage },
        { """{"type":"start_session","user_id":"u","input_sample_rate":11025}""", false, VoiceChatErrorCodes.UnsupportedSampleRate },
        { """{"type":"text","text":"hi"}""", false, VoiceChatErrorCodes.NotStarted },
        { """{"type":"audio","data":"AAAAAA=="}""", false, VoiceChatErrorCodes.NotStarted },
        { """{"type":"start_session","user_id":"u"}""", true, VoiceChatErrorCodes.AlreadyStarted },
        { """{"type":"audio","data":"%%%"}""", true, VoiceChatErrorCodes.InvalidAudio },
        { """{"type":"activity_start"}""", true, VoiceChatErrorCodes.ActivityDetectionAutomatic },
    };

    [Theory]
    [MemberData(nameof(NonFatalInputs))]
    public async Task Non_fatal_bad_input_gets_an_error_and_the_session_goes_on(string input, bool startFirst, string code)
    {
        await using var client = await _host.ConnectAsync();
        if (startFirst)
        {
            await client.StartAsync();
        }

        await client.SendJsonAsync(input);

        var error = await client.WaitForAsync("error");
        error.GetProperty("code").GetString().Should().Be(code);
        error.GetProperty("fatal").GetBoolean().Should().BeFalse();
        error.GetProperty("message").GetString().Should().NotBeNullOrWhiteSpace();
        await ShouldStillWorkAsync(client, started: startFirst);
    }

    [Fact]
    public async Task Audio_before_start_session_is_refused()
    {
        await using var client = await _host.ConnectAsync();

        await client.SendAudioAsync(Pcm.Speech(0.1));

        (await client.WaitForAsync("error")).GetProperty("code").GetString().Should().Be(VoiceChatErrorCodes.NotStarted);
        await ShouldStillWorkAsync(client, started: false);
        _host.Emulator.Connections.Single().AudioBytesReceived.Should().Be(0);
    }

    [Fact]
    public async Task An_odd_length_pcm_frame_is_dropped_with_an_error()
    {
        await using var client = await _host.ConnectAsync();
        await client.StartAsync();

        await client.SendAudioAsync(new byte[641]);

        var error = await client.WaitForAsync("error");
        error.GetProperty("code").GetString().Should().Be(VoiceChatErrorCodes.InvalidAudio);
        error.GetProperty("fatal").GetBoolean().Should().BeFalse();
        await ShouldStillWorkAsync(client, started: true);
        _host.Emulator.Connections.Single().AudioBytesReceived.Should().Be(0);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_frame_over_the_limit_closes_with_1009(bool binary)
    {
        await using var client = await _host.ConnectAsync();
        await client.StartAsync();

        if (binary)
        {
            await client.SendAudioAsync(new byte[9 * 1024]);
        }
        else
        {
            await client.SendJsonAsync($$"""{"type":"text","text":"{{new string('a', 9 * 1024)}}"}""");
        }

        var error = await client.WaitForAsync("error");
        error.GetProperty("code").GetString().Should().Be(VoiceChatErrorCodes.FrameTooLarge);
        error.GetProperty("fatal").GetBoolean().Should().BeTrue();
        (await client.WaitForCloseAsync()).Should().Be(WebSocketCloseStatus.MessageTooBig);
    }

    [Fact]
    public async Task A_frame_exactly_at_the_limit_is_accepted()
    {
        await using var client = await _host.ConnectAsync();
        await client.StartAsync();

        await client.SendAudioAsync(new byte[8 * 1024]);

        await ShouldStillWorkAsync(client, started: true);

        // The relay answers the ping itself: the frame may still be on its way to the model.
        var model = await _host.Emulator.WaitForConnectionAsync();
        await Eventually.TrueAsync(() => model.AudioBytesReceived >= 8 * 1024);
        model.AudioBytesReceived.Should().Be(8 * 1024);
    }

    [Fact]
    public async Task A_healthy_session_is_unaffected_by_misbehaving_neighbours()
    {
        await using var healthy = await _host.ConnectAsync();
        await healthy.StartAsync("healthy");
        var turn = Task.Run(async () =>
        {
            await healthy.StreamAsync(Pcm.Concat(Pcm.Speech(1.5, 350), Pcm.Silence(1.0)));
            await healthy.WaitForAsync("turn_complete");
        });

        var abusers = Enumerable.Range(0, 6).Select(async i =>
        {
            await using var client = await _host.ConnectAsync();
            await client.StartAsync($"abuser-{i}");
            await client.SendJsonAsync("{broken");
            await client.SendAudioAsync(new byte[3]);
            await client.SendJsonAsync("""{"type":"start_session","user_id":"again"}""");
            if (i % 2 == 0)
            {
                await client.SendAudioAsync(new byte[64 * 1024]); // Fatal: 1009.
                (await client.WaitForCloseAsync()).Should().Be(WebSocketCloseStatus.MessageTooBig);
            }
            else
            {
                client.Socket.Abort(); // Vanishes without a close frame.
            }
        });

        await Task.WhenAll(abusers);
        await turn;
        healthy.Messages.Should().NotContain(m => m.GetProperty("type").GetString() == "error");
        Pcm.EstimateFrequency(healthy.Audio.ToArray(), 24000).Should().BeApproximately(350, 30);
    }

    [Fact]
    public async Task Binary_garbage_that_is_not_json_in_a_text_frame_is_refused()
    {
        await using var client = await _host.ConnectAsync();

        await client.SendJsonAsync(Encoding.Latin1.GetString([0xFF, 0xFE, 0x00, 0x7B]));

        (await client.WaitForAsync("error")).GetProperty("code").GetString().Should().Be(VoiceChatErrorCodes.InvalidJson);
        await ShouldStillWorkAsync(client, started: false);
    }

    /// <summary>The session still answers: a ping when started, else a start_session.</summary>
    private static async Task ShouldStillWorkAsync(VoiceClient client, bool started)
    {
        if (!started)
        {
            await client.StartAsync("later");
        }

        await client.SendJsonAsync("""{"type":"ping","id":"still-there"}""");
        (await client.WaitForAsync("pong")).GetProperty("id").GetString().Should().Be("still-there");
    }
}

/// <summary>The fatal limits that take time: start timeout, idle timeout, maximum duration, session limit.</summary>
public sealed class SessionLimitTests
{
    [Fact]
    public async Task No_start_session_in_time_closes_with_4001()
    {
        await using var host = await VoiceChatTestHost.StartAsync(o => o.StartTimeout = TimeSpan.FromSeconds(1));
        await using var client = await host.ConnectAsync();

        await ShouldEndFatallyAsync(client, VoiceChatErrorCodes.StartTimeout, 4001);
        host.Emulator.Connections.Should().BeEmpty();
    }

    [Fact]
    public async Task A_silent_client_is_closed_with_4002()
    {
        await using var host = await VoiceChatTestHost.StartAsync(o => o.IdleTimeout = TimeSpan.FromSeconds(1));
        await using var client = await host.ConnectAsync();
        await client.StartAsync();

        await ShouldEndFatallyAsync(client, VoiceChatErrorCodes.IdleTimeout, 4002);
        await host.Emulator.Connections.Single().Closed.WaitAsync(VoiceClient.DefaultWait);
    }

    [Fact]
    public async Task A_session_past_its_maximum_duration_is_closed_with_4003()
    {
        await using var host = await VoiceChatTestHost.StartAsync(o => o.MaxSessionDuration = TimeSpan.FromSeconds(2));
        await using var client = await host.ConnectAsync();
        await client.StartAsync();

        await ShouldEndFatallyAsync(client, VoiceChatErrorCodes.MaxDuration, 4003);
    }

    [Fact]
    public async Task A_start_beyond_the_session_limit_is_refused_with_4004()
    {
        await using var host = await VoiceChatTestHost.StartAsync(o => o.MaxConcurrentSessions = 1);
        await using var first = await host.ConnectAsync();
        await first.StartAsync();

        await using (var second = await host.ConnectAsync())
        {
            await second.SendJsonAsync("""{"type":"start_session","user_id":"second"}""");
            await ShouldEndFatallyAsync(second, VoiceChatErrorCodes.ServerBusy, 4004);
        }

        await first.SendJsonAsync("""{"type":"end_session"}""");
        await first.WaitForCloseAsync();

        // The slot is free again once the first session's handler has finished.
        for (var attempt = 1; ; attempt++)
        {
            await using var third = await host.ConnectAsync();
            await third.SendJsonAsync("""{"type":"start_session","user_id":"third"}""");
            var answer = await third.NextMessageAsync();
            if (answer.GetProperty("type").GetString() == "session_started")
            {
                break;
            }

            answer.GetProperty("code").GetString().Should().Be(VoiceChatErrorCodes.ServerBusy);
            attempt.Should().BeLessThan(50, "the first session's slot must be released");
            await Task.Delay(100);
        }
    }

    private static async Task ShouldEndFatallyAsync(VoiceClient client, string code, int closeCode)
    {
        var error = await client.WaitForAsync("error");
        error.GetProperty("code").GetString().Should().Be(code);
        error.GetProperty("fatal").GetBoolean().Should().BeTrue();
        ((int?)await client.WaitForCloseAsync()).Should().Be(closeCode);
    }
}
