using System.Diagnostics;
using System.Net;
using System.Net.WebSockets;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using VoiceChat.Sessions;
using VoiceChat.Tests.Infrastructure;
using VoiceChat.Testing;

namespace VoiceChat.Tests.Abuse;

/// <summary>
/// Hostile and broken clients each get their documented outcome, while a well-behaved neighbour on
/// the same server keeps streaming without losing a frame, and every place is freed afterwards.
/// </summary>
public sealed class AbuseTests
{
    // 40 ms at 16 kHz.
    private const int FrameBytes = 1280;

    [Fact]
    public async Task Upgrades_that_never_start_are_capped_time_out_and_do_not_hold_session_places()
    {
        const int pendingCap = 50;
        await using var host = await StartAsync(o =>
        {
            o.MaxPendingConnections = pendingCap;
            o.MaxConcurrentSessions = 2;
            o.StartTimeout = TimeSpan.FromSeconds(2);
        });

        await WithNeighbourAsync(host, async () =>
        {
            // Connected before the flood, started after it: pending connections hold no session place.
            await using var late = await host.ConnectAsync();
            var accepted = new List<ClientWebSocket>();
            var refused = 0;
            var mostPending = 0;
            for (var batch = 0; batch < 10; batch++)
            {
                var sockets = Enumerable.Range(0, 50).Select(_ => new ClientWebSocket { Options = { CollectHttpResponseDetails = true } }).ToArray();
                var results = await Task.WhenAll(sockets.Select(async socket =>
                {
                    try
                    {
                        using var timeout = new CancellationTokenSource(VoiceClient.DefaultWait);
                        await socket.ConnectAsync(host.VoiceUrl, timeout.Token);
                        return true;
                    }
                    catch (WebSocketException)
                    {
                        socket.HttpStatusCode.Should().Be(HttpStatusCode.ServiceUnavailable);
                        return false;
                    }
                }));
                accepted.AddRange(sockets.Where((_, i) => results[i]));
                refused += results.Count(ok => !ok);
                mostPending = Math.Max(mostPending, Registry(host).PendingCount);
            }

            refused.Should().BeGreaterThan(0, "more than the cap tried at once");
            (accepted.Count + refused).Should().Be(500);
            accepted.Should().HaveCountGreaterThanOrEqualTo(pendingCap - 1);
            mostPending.Should().BeLessThanOrEqualTo(pendingCap);

            await late.StartAsync("late");
            await late.SendJsonAsync("""{"type":"end_session"}""");
            await late.WaitForCloseAsync();

            foreach (var socket in accepted)
            {
                var (code, close) = await ReadToCloseAsync(socket);
                code.Should().Be(VoiceChatErrorCodes.StartTimeout);
                close.Should().Be(VoiceChatCloseCodes.StartTimeout);
                socket.Dispose();
            }
        });
    }

    [Fact]
    public async Task Fifty_sessions_of_one_user_start_three_and_refuse_the_rest()
    {
        await using var host = await StartAsync(o => o.MaxSessionsPerUser = 3);

        await WithNeighbourAsync(host, async () =>
        {
            var clients = await Task.WhenAll(Enumerable.Range(0, 50).Select(_ => host.ConnectAsync()));
            try
            {
                await Task.WhenAll(clients.Select(c => c.SendJsonAsync("""{"type":"start_session","user_id":"mallory"}""")));
                var answers = await Task.WhenAll(clients.Select(c => c.NextMessageAsync()));

                answers.Count(a => a.GetProperty("type").GetString() == "session_started").Should().Be(3);
                var refusals = answers.Where(a => a.GetProperty("type").GetString() == "error").ToList();
                refusals.Should().HaveCount(47).And.OnlyContain(a =>
                    a.GetProperty("code").GetString() == VoiceChatErrorCodes.TooManySessions && a.GetProperty("fatal").GetBoolean());
                var refused = clients.Where((_, i) => answers[i].GetProperty("type").GetString() == "error");
                foreach (var client in refused)
                {
                    ((int?)await client.WaitForCloseAsync()).Should().Be(VoiceChatCloseCodes.TooManySessions);
                }

                host.Emulator.Connections.Should().HaveCount(4, "the neighbour's and mallory's three");
            }
            finally
            {
                foreach (var client in clients)
                {
                    await client.DisposeAsync();
                }
            }
        });
    }

    [Fact]
    public async Task A_client_that_never_reads_is_dropped_after_the_send_timeout()
    {
        var logs = new LogCapture();
        await using var host = await VoiceChatTestHost.StartAsync(
            o =>
            {
                o.SendTimeout = TimeSpan.FromSeconds(1);
                o.MaxAudioAheadOfRealTime = TimeSpan.FromMinutes(10);
            },
            emulator: o => o.EchoAudio = true,
            services: (builder, _) => builder.Logging.AddProvider(logs));

        await WithNeighbourAsync(host, async () =>
        {
            using var socket = new ClientWebSocket();
            await socket.ConnectAsync(host.VoiceUrl, CancellationToken.None);
            await socket.SendAsync(Encoding.UTF8.GetBytes("""{"type":"start_session","user_id":"deaf","input_sample_rate":48000}"""), WebSocketMessageType.Text, true, CancellationToken.None);
            await Eventually.TrueAsync(() => host.Emulator.Connections.Count == 2);
            var upstream = host.Emulator.Connections[^1];

            // Echoed audio piles up towards a client that reads nothing, until the server gives up.
            var frame = new byte[60_000];
            for (var i = 0; i < 5000 && upstream.IsOpen; i++)
            {
                using var stalled = new CancellationTokenSource(TimeSpan.FromSeconds(2));
                try
                {
                    await socket.SendAsync(frame, WebSocketMessageType.Binary, true, stalled.Token);
                }
                catch (Exception ex) when (ex is OperationCanceledException or WebSocketException)
                {
                    break; // The server no longer reads either, or has dropped the connection.
                }
            }

            await upstream.Closed.WaitAsync(VoiceClient.DefaultWait);
            await Eventually.TrueAsync(() => Registry(host).Count == 1);
            logs.Entries.Should().ContainSingle(e => e.Contains("[SendTimedOut]", StringComparison.Ordinal));
        });
    }

    [Fact]
    public async Task Audio_at_ten_times_real_time_is_dropped_then_the_session_is_closed()
    {
        await using var host = await StartAsync(o => o.MaxAudioAheadOfRealTime = TimeSpan.FromSeconds(1));

        await WithNeighbourAsync(host, async () =>
        {
            await using var client = await host.ConnectAsync();
            await client.StartAsync("flooder");
            var upstream = host.Emulator.Connections[^1];
            var frame = Pcm.Speech(0.04);
            var sent = 0;
            var clock = Stopwatch.StartNew();
            for (var i = 0; i < 1000 && client.Socket.State == WebSocketState.Open; i++)
            {
                // 40 ms of audio every 4 ms.
                while (clock.Elapsed < TimeSpan.FromMilliseconds(4 * i))
                {
                    await Task.Delay(1);
                }

                try
                {
                    await client.SendAudioAsync(frame);
                    sent += frame.Length;
                }
                catch (WebSocketException)
                {
                    break;
                }
            }

            var warning = await client.WaitForAsync("error");
            warning.GetProperty("code").GetString().Should().Be(VoiceChatErrorCodes.RateLimited);
            warning.GetProperty("fatal").GetBoolean().Should().BeFalse();
            var fatal = await client.WaitForAsync("error");
            fatal.GetProperty("code").GetString().Should().Be(VoiceChatErrorCodes.RateLimited);
            fatal.GetProperty("fatal").GetBoolean().Should().BeTrue();
            ((int?)await client.WaitForCloseAsync()).Should().Be(VoiceChatCloseCodes.RateLimited);
            await upstream.Closed.WaitAsync(VoiceClient.DefaultWait);
            upstream.AudioBytesReceived.Should().BeLessThan(sent, "the excess was dropped");
        });
    }

    [Fact]
    public async Task Text_beyond_its_rate_is_dropped_then_the_session_is_closed()
    {
        await using var host = await StartAsync(o => o.MaxTextMessagesPerMinute = 5);

        await WithNeighbourAsync(host, async () =>
        {
            await using var client = await host.ConnectAsync();
            await client.StartAsync("chatty");
            var upstream = host.Emulator.Connections[^1];
            for (var i = 0; i < 11; i++)
            {
                await client.SendJsonAsync($$"""{"type":"text","text":"message {{i}}"}""");
            }

            var warning = await client.WaitForAsync("error");
            warning.GetProperty("code").GetString().Should().Be(VoiceChatErrorCodes.RateLimited);
            warning.GetProperty("fatal").GetBoolean().Should().BeFalse();
            var fatal = await client.WaitForAsync("error");
            fatal.GetProperty("fatal").GetBoolean().Should().BeTrue();
            ((int?)await client.WaitForCloseAsync()).Should().Be(VoiceChatCloseCodes.RateLimited);
            await upstream.Closed.WaitAsync(VoiceClient.DefaultWait);
            upstream.TextsReceived.Should().HaveCount(5);
        });
    }

    private static Task<VoiceChatTestHost> StartAsync(Action<VoiceChatOptions> configure) =>
        VoiceChatTestHost.StartAsync(configure, emulator: o => o.EchoAudio = true);

    private static VoiceSessionRegistry Registry(VoiceChatTestHost host) => host.App.Services.GetRequiredService<VoiceSessionRegistry>();

    /// <summary>
    /// Runs <paramref name="abuse"/> while a neighbour session streams audio at real time; then the
    /// neighbour has heard back every byte it sent, ends, and the process holds no session or connection.
    /// </summary>
    private static async Task WithNeighbourAsync(VoiceChatTestHost host, Func<Task> abuse)
    {
        await using var neighbour = await host.ConnectAsync();
        await neighbour.StartAsync("neighbour");
        using var stop = new CancellationTokenSource();
        var frame = Pcm.Speech(0.04);
        var streaming = Task.Run(async () =>
        {
            var sent = 0;
            for (var i = 0; i < 1500 && (!stop.IsCancellationRequested || i < 25); i++)
            {
                await neighbour.SendAudioAsync(frame);
                sent += frame.Length;
                await Task.Delay(40);
            }

            return sent;
        });

        await abuse();
        await stop.CancelAsync();
        var sentBytes = await streaming;

        await Eventually.TrueAsync(() => neighbour.Audio.Length == sentBytes);
        await neighbour.SendJsonAsync("""{"type":"end_session"}""");
        await neighbour.WaitForAsync("session_ended");
        await Eventually.TrueAsync(() => Registry(host).Count == 0 && Registry(host).PendingCount == 0);
    }

    /// <summary>Reads a raw socket to the server's close: the code of the last error, and the close status.</summary>
    private static async Task<(string? Code, int? Close)> ReadToCloseAsync(ClientWebSocket socket)
    {
        var buffer = new byte[4096];
        string? code = null;
        using var timeout = new CancellationTokenSource(VoiceClient.DefaultWait);
        while (true)
        {
            var result = await socket.ReceiveAsync(buffer, timeout.Token);
            if (result.MessageType == WebSocketMessageType.Close)
            {
                return (code, (int?)socket.CloseStatus);
            }

            using var json = System.Text.Json.JsonDocument.Parse(buffer.AsMemory(0, result.Count));
            code = json.RootElement.TryGetProperty("code", out var value) ? value.GetString() : code;
        }
    }
}
