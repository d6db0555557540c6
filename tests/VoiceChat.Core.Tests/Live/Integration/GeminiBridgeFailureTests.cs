using System.Net.WebSockets;
using Microsoft.Extensions.DependencyInjection;
using VoiceChat.Live;
using VoiceChat.Live.Gemini;
using VoiceChat.Testing;
using VoiceChat.Tests.Live.WebSockets;

namespace VoiceChat.Tests.Live.Integration;

/// <summary>Vertex AI authentication and the close taxonomy, over real sockets.</summary>
public sealed class GeminiBridgeFailureTests
{
    private sealed class CountingTokenSource : IAccessTokenSource
    {
        private int _count;

        public int Count => Volatile.Read(ref _count);

        public ValueTask<string> GetAccessTokenAsync(CancellationToken cancellationToken) =>
            ValueTask.FromResult($"token-{Interlocked.Increment(ref _count)}");
    }

    private sealed class FailingTokenSource : IAccessTokenSource
    {
        public ValueTask<string> GetAccessTokenAsync(CancellationToken cancellationToken) =>
            throw new InvalidOperationException("Your default credentials were not found.");
    }

    private static async Task<LiveConnectionException> ConnectFailsAsync(ServiceProvider services)
    {
        var factory = services.GetRequiredService<ILiveConnectionFactory>();
        var act = async () => await factory.ConnectAsync(LiveHarness.Request(), CancellationToken.None);
        return (await act.Should().ThrowAsync<LiveConnectionException>()).Which;
    }

    [Fact]
    public async Task Vertex_uses_its_path_model_name_and_a_fresh_bearer_token_per_connection()
    {
        await using var emulator = await LiveApiEmulator.StartAsync(new LiveApiEmulatorOptions { RealTimePacing = false });
        var tokens = new CountingTokenSource();
        await using var services = LiveHarness.Services(
            emulator.BaseUrl,
            o =>
            {
                o.Backend = GeminiBackend.VertexAI;
                o.ApiKey = null;
                o.Project = "my-project";
                o.Location = "europe-west4";
                o.Model = "gemini-live-2.5-flash-native-audio";
            },
            services: s => s.AddSingleton<IAccessTokenSource>(tokens));
        var (connection, events) = await LiveHarness.ConnectAsync(services);
        await using (connection)
        {
            var first = emulator.Connections.Single();
            first.Backend.Should().Be(GeminiBackend.VertexAI);
            first.Path.Should().Be("/ws/google.cloud.aiplatform.v1beta1.LlmBidiService/BidiGenerateContent");
            first.Model.Should().Be("projects/my-project/locations/europe-west4/publishers/google/models/gemini-live-2.5-flash-native-audio");
            first.BearerToken.Should().Be("token-1");
            first.ApiKey.Should().BeNull();

            // A reconnection mints a new token.
            await events.WaitForAsync(_ => first.ResumptionHandlesIssued.Count > 0, "a resumption handle");
            await first.InjectFaultAsync(EmulatorFault.InternalError);
            await events.WaitForAsync(_ => emulator.Connections.Count == 2 && emulator.Connections[1].SetupCompleted, "a resumed connection");
            emulator.Connections[1].BearerToken.Should().Be("token-2");
            emulator.Connections[1].IsResumption.Should().BeTrue();
            events.Snapshot().Should().NotContain(e => e.Kind == LiveEventKind.Error);
        }
    }

    [Fact]
    public async Task A_failing_token_provider_is_upstream_auth_failed()
    {
        await using var emulator = await LiveApiEmulator.StartAsync();
        await using var services = LiveHarness.Services(
            emulator.BaseUrl,
            o => { o.Backend = GeminiBackend.VertexAI; o.Project = "p"; },
            services: s => s.AddSingleton<IAccessTokenSource>(new FailingTokenSource()));

        var failure = await ConnectFailsAsync(services);

        failure.Error.Code.Should().Be(VoiceChatErrorCodes.UpstreamAuthFailed);
        failure.Error.Fatal.Should().BeTrue();
        failure.Error.Message.Should().NotContain("credentials were not found");
        emulator.Connections.Should().BeEmpty();
    }

    [Fact]
    public async Task A_refused_bearer_token_is_upstream_auth_failed()
    {
        await using var emulator = await LiveApiEmulator.StartAsync(new LiveApiEmulatorOptions { ExpectedBearerToken = "the-right-one" });
        await using var services = LiveHarness.Services(
            emulator.BaseUrl,
            o => { o.Backend = GeminiBackend.VertexAI; o.Project = "p"; },
            services: s => s.AddSingleton<IAccessTokenSource>(new CountingTokenSource()));

        (await ConnectFailsAsync(services)).Error.Code.Should().Be(VoiceChatErrorCodes.UpstreamAuthFailed);
    }

    [Theory]
    [InlineData(EmulatorFault.InternalError, GeminiBackend.DeveloperApi, "upstream_internal")]
    [InlineData(EmulatorFault.ServiceUnavailable, GeminiBackend.DeveloperApi, "upstream_internal")]
    [InlineData(EmulatorFault.DeadlineExceeded, GeminiBackend.DeveloperApi, "upstream_timeout")]
    [InlineData(EmulatorFault.ResourceExhausted, GeminiBackend.DeveloperApi, "quota_exhausted")]
    [InlineData(EmulatorFault.InvalidArgument, GeminiBackend.DeveloperApi, "upstream_invalid_argument")]
    [InlineData(EmulatorFault.ModelNotFound, GeminiBackend.DeveloperApi, "model_not_found")]
    [InlineData(EmulatorFault.LocationNotSupported, GeminiBackend.DeveloperApi, "location_not_supported")]
    [InlineData(EmulatorFault.AuthenticationFailed, GeminiBackend.DeveloperApi, "upstream_auth_failed")]
    [InlineData(EmulatorFault.AuthenticationFailed, GeminiBackend.VertexAI, "upstream_auth_failed")]
    [InlineData(EmulatorFault.ApiKeyExpired, GeminiBackend.DeveloperApi, "upstream_auth_failed")]
    [InlineData(EmulatorFault.SessionNotFound, GeminiBackend.DeveloperApi, "upstream_unavailable")]
    [InlineData(EmulatorFault.AbruptDrop, GeminiBackend.DeveloperApi, "upstream_unavailable")]
    public async Task Setup_close_maps_to_its_documented_error(EmulatorFault fault, GeminiBackend backend, string code)
    {
        await using var emulator = await LiveApiEmulator.StartAsync(new LiveApiEmulatorOptions { SetupFault = fault });
        await using var services = LiveHarness.Services(
            emulator.BaseUrl,
            o => { o.Backend = backend; o.Project = "p"; },
            services: s => s.AddSingleton<IAccessTokenSource>(new CountingTokenSource()));

        var failure = await ConnectFailsAsync(services);

        failure.Error.Code.Should().Be(code);
        failure.Error.Fatal.Should().BeTrue();
        VoiceChatCloseCodes.ForError(code).Should().BeInRange(4005, 4012);
        if (fault != EmulatorFault.AbruptDrop)
        {
            failure.UpstreamDetail.Should().Contain(((int)emulator.Connections.Single().CloseStatus!.Value).ToString(System.Globalization.CultureInfo.InvariantCulture));
            failure.Message.Should().NotContain(emulator.Connections.Single().CloseDescription!);
        }
    }

    [Fact]
    public async Task An_unknown_model_is_model_not_found()
    {
        await using var emulator = await LiveApiEmulator.StartAsync();
        await using var services = LiveHarness.Services(emulator.BaseUrl, o => o.Model = "gemini-9-does-not-exist");

        (await ConnectFailsAsync(services)).Error.Code.Should().Be(VoiceChatErrorCodes.ModelNotFound);
    }

    [Fact]
    public async Task No_setup_complete_is_upstream_timeout()
    {
        await using var emulator = await LiveApiEmulator.StartAsync(new LiveApiEmulatorOptions { SuppressSetupComplete = true });
        await using var services = LiveHarness.Services(emulator.BaseUrl, o => o.SetupTimeout = TimeSpan.FromMilliseconds(300));

        (await ConnectFailsAsync(services)).Error.Code.Should().Be(VoiceChatErrorCodes.UpstreamTimeout);
    }

    [Fact]
    public async Task Nothing_listening_is_upstream_unavailable()
    {
        int port;
        using (var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0))
        {
            listener.Start();
            port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        }

        await using var services = LiveHarness.Services(new Uri($"http://127.0.0.1:{port}"));

        (await ConnectFailsAsync(services)).Error.Code.Should().Be(VoiceChatErrorCodes.UpstreamUnavailable);
    }

    [Theory]
    [InlineData("wrong accept value", "Sec-WebSocket-Accept")]
    [InlineData("extension not asked for", "Sec-WebSocket-Extensions")]
    public async Task A_switching_protocols_answer_that_is_not_the_websocket_asked_for_is_upstream_unavailable(string fault, string detail)
    {
        await using var server = new RawWebSocketServer(key => fault == "wrong accept value"
            ? "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: AAAAAAAAAAAAAAAAAAAAAAAAAAA=\r\n\r\n"
            : RawWebSocketServer.Upgrade(key, "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n"));
        await using var services = LiveHarness.Services(new Uri($"http://127.0.0.1:{server.Uri.Port}"));

        var failure = await ConnectFailsAsync(services);

        failure.Error.Code.Should().Be(VoiceChatErrorCodes.UpstreamUnavailable);
        failure.UpstreamDetail.Should().Contain(detail);
        server.RequestHead.Should().Contain("x-goog-api-key: ");
    }

    [Theory]
    [InlineData(401, "upstream_auth_failed")]
    [InlineData(403, "upstream_auth_failed")]
    [InlineData(429, "quota_exhausted")]
    [InlineData(503, "upstream_unavailable")]
    public async Task A_refused_upgrade_maps_to_its_documented_error(int status, string code)
    {
        await using var server = await ScriptedLiveServer.StartAsync(_ => Task.CompletedTask, refuseWithStatus: status);
        await using var services = LiveHarness.Services(server.BaseUrl);

        (await ConnectFailsAsync(services)).Error.Code.Should().Be(code);
    }

    [Theory]
    [InlineData(EmulatorFault.InvalidArgument, "upstream_invalid_argument")]
    [InlineData(EmulatorFault.ResourceExhausted, "quota_exhausted")]
    [InlineData(EmulatorFault.SessionNotFound, "upstream_unavailable")]
    [InlineData(EmulatorFault.ApiKeyExpired, "upstream_auth_failed")]
    public async Task A_fatal_close_mid_session_is_an_error_then_closed(EmulatorFault fault, string code)
    {
        await using var emulator = await LiveApiEmulator.StartAsync(new LiveApiEmulatorOptions { RealTimePacing = false });
        await using var services = LiveHarness.Services(emulator.BaseUrl);
        var (connection, events) = await LiveHarness.ConnectAsync(services);
        await using (connection)
        {
            await emulator.Connections.Single().InjectFaultAsync(fault);

            var all = await events.WaitForKindAsync(LiveEventKind.Closed);

            var tail = all.TakeLast(2).ToList();
            tail[0].Kind.Should().Be(LiveEventKind.Error);
            tail[0].Error!.Code.Should().Be(code);
            tail[0].Error!.Fatal.Should().BeTrue();
            tail[1].Error!.Code.Should().Be(code);
            emulator.Connections.Should().HaveCount(1, "a fatal close is not resumed");
        }
    }
}
