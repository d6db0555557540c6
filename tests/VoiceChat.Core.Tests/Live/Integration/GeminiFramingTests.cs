using System.Net.WebSockets;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using VoiceChat.Live;
using VoiceChat.Live.Gemini;
using VoiceChat.Testing;

namespace VoiceChat.Tests.Live.Integration;

/// <summary>What the model connection's WebSocket framing refuses, and how the bridge reports it, over real sockets.</summary>
public sealed class GeminiFramingTests
{
    private const string SetupComplete = """{"setupComplete":{}}""";

    // One Gemini connection, without the resumable layer: its own errors, before any resumption.
    private static async Task<(ILiveConnection Connection, EventRecorder Events)> ConnectOnceAsync(ServiceProvider services)
    {
        var connector = services.GetRequiredService<IResumableLiveConnector>();
        using var timeout = new CancellationTokenSource(LiveHarness.Patience);
        var connection = await connector.ConnectAsync(new LiveSessionSetup(LiveHarness.Request(), null, null, null), null, timeout.Token);
        return (connection, new EventRecorder(connection));
    }

    [Fact]
    public async Task A_text_message_that_is_not_utf8_is_upstream_internal_and_closes_the_connection_with_1007()
    {
        var clientClose = new TaskCompletionSource<WebSocketCloseStatus?>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var server = await ScriptedLiveServer.StartAsync(async c =>
        {
            await c.ReceiveUntilAsync("setup");
            await c.SendAsync(SetupComplete);
            await c.ReceiveUntilAsync("realtimeInput"); // the text (as the default Gemini 3.8 model takes it): the connection is set up and running
            await c.SendBytesAsync([0x7B, 0x22, 0xC3, 0x28, 0x22, 0x3A, 0x31, 0x7D], WebSocketMessageType.Text); // {"\xC3(":1}
            await c.DrainAsync();
            clientClose.TrySetResult(c.CloseStatus);
        });
        await using var services = LiveHarness.Services(server.BaseUrl);
        var (connection, events) = await ConnectOnceAsync(services);
        await using (connection)
        {
            await connection.SendTextAsync("Hello", CancellationToken.None);
            var all = await events.WaitForKindAsync(LiveEventKind.Closed);

            all[^2].Kind.Should().Be(LiveEventKind.Error);
            all[^2].Error!.Code.Should().Be(VoiceChatErrorCodes.UpstreamInternal);
            all[^2].Error!.Retriable.Should().BeTrue("a new connection may be sound");
            all[^1].Error!.Code.Should().Be(VoiceChatErrorCodes.UpstreamInternal);
            (await clientClose.Task.WaitAsync(LiveHarness.Patience)).Should().Be(WebSocketCloseStatus.InvalidPayloadData);
        }
    }

    [Fact]
    public async Task A_message_over_the_size_limit_is_upstream_internal()
    {
        await using var server = await ScriptedLiveServer.StartAsync(async c =>
        {
            await c.ReceiveUntilAsync("setup");
            await c.SendAsync(SetupComplete);
            await c.ReceiveUntilAsync("realtimeInput");
            await c.SendBytesAsync(new byte[GeminiLiveConnection.MaxMessageBytes + 1], WebSocketMessageType.Binary);
            await c.DrainAsync();
        });
        await using var services = LiveHarness.Services(server.BaseUrl);
        var (connection, events) = await ConnectOnceAsync(services);
        await using (connection)
        {
            await connection.SendTextAsync("Hello", CancellationToken.None);
            var all = await events.WaitForKindAsync(LiveEventKind.Closed);

            all[^2].Error!.Code.Should().Be(VoiceChatErrorCodes.UpstreamInternal);
            all[^1].Error!.Code.Should().Be(VoiceChatErrorCodes.UpstreamInternal);
        }
    }

    [Fact]
    public async Task A_connection_that_goes_silent_is_found_dead_by_its_pings_and_the_conversation_resumed()
    {
        await using var emulator = await LiveApiEmulator.StartAsync(new LiveApiEmulatorOptions { RealTimePacing = false });
        await using var proxy = new SilentNetworkProxy(emulator.BaseUrl);
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var services = LiveHarness.Services(
            proxy.BaseUrl,
            o =>
            {
                o.KeepAliveInterval = TimeSpan.FromSeconds(15);
                o.KeepAliveTimeout = TimeSpan.FromSeconds(30);
            },
            services: s => s.AddSingleton<TimeProvider>(time));
        var (connection, events) = await LiveHarness.ConnectAsync(services);
        await using (connection)
        {
            // A whole turn through the proxy: the resumption handle issued before it has reached the bridge.
            await connection.SendTextAsync("Hello", CancellationToken.None);
            await events.WaitForKindAsync(LiveEventKind.TurnComplete);
            emulator.Connections.Single().ResumptionHandlesIssued.Should().NotBeEmpty();

            proxy.SilenceOpenConnections();
            time.Advance(TimeSpan.FromSeconds(15)); // a ping, swallowed
            time.Advance(TimeSpan.FromSeconds(30)); // nothing came back: the connection is lost

            // The service refuses to resume a conversation until it has seen the old connection end, so
            // the first attempt may fail; the next ones wait on the clock, which runs while we wait.
            await events.WaitForAsync(
                _ =>
                {
                    time.Advance(TimeSpan.FromMilliseconds(100));
                    return emulator.Connections.Any(c => c.IsResumption && c.SetupCompleted);
                },
                "a resumed connection");
            events.Snapshot().Should().NotContain(e => e.Kind == LiveEventKind.Error || e.Kind == LiveEventKind.Closed);
        }
    }
}
