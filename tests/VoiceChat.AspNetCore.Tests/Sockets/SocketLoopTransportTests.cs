using System.Net;
using System.Net.WebSockets;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using VoiceChat.AspNetCore;
using VoiceChat.Tests.Infrastructure;

namespace VoiceChat.Tests.Sockets;

/// <summary>Kestrel on the socket loop transport, with HTTP and WebSocket endpoints of the test's own, over real loopback sockets.</summary>
public sealed class SocketLoopTransportTests : IAsyncLifetime
{
    private const int LargeBody = 8 * 1024 * 1024;
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan LongWait = TimeSpan.FromSeconds(60);

    private readonly TaskCompletionSource<string> _watchEnded = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private WebApplication _app = null!;
    private Uri _baseUrl = null!;

    private Uri WebSocketUrl(string path) => new($"ws://{_baseUrl.Authority}{path}");

    public async Task InitializeAsync()
    {
        _app = CreateBuilder(configure: null).Build();
        _app.UseWebSockets();
        _app.MapGet("/id", (HttpContext context) => context.Connection.Id);
        _app.MapPost("/digest", DigestAsync);
        _app.MapGet("/download", DownloadAsync);
        _app.Map("/echo", EchoAsync);
        _app.Map("/watch", WatchAsync);
        _app.Map("/abort", AbortAsync);
        await _app.StartAsync();
        _baseUrl = new Uri(_app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
    }

    public async Task DisposeAsync()
    {
        using (var stopping = new CancellationTokenSource(TimeSpan.FromSeconds(15)))
        {
            await _app.StopAsync(stopping.Token);
        }

        await _app.DisposeAsync();
    }

    [LinuxFact]
    public async Task Requests_are_served_by_the_loop_and_keep_alive_reuses_the_connection()
    {
        using var http = new HttpClient { BaseAddress = _baseUrl };

        var ids = new List<string>();
        for (var i = 0; i < 5; i++)
        {
            ids.Add(await http.GetStringAsync(new Uri("/id", UriKind.Relative)).WaitAsync(Wait));
        }

        ids.Should().OnlyContain(id => id.StartsWith('L'), "connection ids of the loop transport start with L");
        ids.Distinct().Should().ContainSingle("five requests in turn on one HttpClient share one kept-alive connection");
    }

    [LinuxFact]
    public async Task A_request_body_larger_than_the_input_buffer_arrives_whole()
    {
        using var http = new HttpClient { BaseAddress = _baseUrl };
        var body = RandomBytes(LargeBody, seed: 1);

        using var response = await http.PostAsync(new Uri("/digest", UriKind.Relative), new ByteArrayContent(body)).WaitAsync(LongWait);

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        (await response.Content.ReadAsStringAsync()).Should().Be($"{LargeBody}:{Convert.ToHexString(SHA256.HashData(body))}");
    }

    [LinuxFact]
    public async Task A_response_larger_than_the_output_buffer_arrives_whole()
    {
        using var http = new HttpClient { BaseAddress = _baseUrl };

        var body = await http.GetByteArrayAsync(new Uri("/download", UriKind.Relative)).WaitAsync(LongWait);

        body.Length.Should().Be(LargeBody);
        SHA256.HashData(body).Should().Equal(SHA256.HashData(DownloadBody()));
    }

    [LinuxFact]
    public async Task A_one_MiB_WebSocket_message_is_echoed_unchanged()
    {
        using var client = await ConnectAsync("/echo");
        var message = RandomBytes(1024 * 1024, seed: 2);

        await client.SendAsync(message, WebSocketMessageType.Binary, endOfMessage: true, CancellationToken.None).WaitAsync(LongWait);
        var (type, echoed) = await ReceiveMessageAsync(client).WaitAsync(LongWait);

        type.Should().Be(WebSocketMessageType.Binary);
        SHA256.HashData(echoed).Should().Equal(SHA256.HashData(message));
        await client.CloseAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None).WaitAsync(Wait);
        client.CloseStatus.Should().Be(WebSocketCloseStatus.NormalClosure);
    }

    [LinuxFact]
    public async Task Fifty_concurrent_clients_each_get_their_own_twenty_messages_back()
    {
        var clients = Enumerable.Range(0, 50).Select(async c =>
        {
            using var client = await ConnectAsync("/echo");
            var random = new Random(c);
            for (var m = 0; m < 20; m++)
            {
                var message = Encoding.UTF8.GetBytes($"client {c} message {m} " + new string('x', random.Next(0, 4000)));
                await client.SendAsync(message, WebSocketMessageType.Text, endOfMessage: true, CancellationToken.None);
                var (type, echoed) = await ReceiveMessageAsync(client);
                type.Should().Be(WebSocketMessageType.Text);
                echoed.Should().Equal(message, $"client {c} hears its own message {m}");
            }

            await client.CloseAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None);
            return client.CloseStatus;
        });

        var statuses = await Task.WhenAll(clients).WaitAsync(LongWait);

        statuses.Should().HaveCount(50).And.OnlyContain(s => s == WebSocketCloseStatus.NormalClosure);
    }

    [LinuxFact]
    public async Task A_client_that_vanishes_without_a_close_handshake_ends_the_servers_receive()
    {
        var client = await ConnectAsync("/watch");
        await client.SendAsync("hello"u8.ToArray(), WebSocketMessageType.Text, endOfMessage: true, CancellationToken.None).WaitAsync(Wait);
        (await ReceiveMessageAsync(client).WaitAsync(Wait)).Message.Should().Equal("hello"u8.ToArray(), "the server is in its receive loop");

        client.Abort();
        client.Dispose();

        var ended = await _watchEnded.Task.WaitAsync(Wait);
        ended.Should().NotBeNullOrEmpty();
    }

    [LinuxFact]
    public async Task Aborting_the_HttpContext_ends_the_clients_receive()
    {
        using var client = await ConnectAsync("/abort");
        var receiving = client.ReceiveAsync(new byte[64], CancellationToken.None);

        await client.SendAsync("abort"u8.ToArray(), WebSocketMessageType.Text, endOfMessage: true, CancellationToken.None).WaitAsync(Wait);

        var outcome = await Outcome(receiving).WaitAsync(Wait);
        outcome.Should().BeOneOf("WebSocketException", "Close");
    }

    [LinuxFact]
    public async Task A_loop_count_of_zero_fails_the_start_naming_LoopCount()
    {
        var starting = () => BuildAndStartAsync(o => o.LoopCount = 0);

        (await starting.Should().ThrowAsync<OptionsValidationException>()).Which.Message.Should().Contain("LoopCount");
    }

    [LinuxFact]
    public async Task A_backlog_of_zero_fails_the_start_naming_Backlog()
    {
        var starting = () => BuildAndStartAsync(o => o.Backlog = 0);

        (await starting.Should().ThrowAsync<OptionsValidationException>()).Which.Message.Should().Contain("Backlog");
    }

    // WebApplication resolves the server, and with it the loops and their options, when it is built; a generic host when it starts.
    private static async Task BuildAndStartAsync(Action<VoiceChatSocketLoopOptions> configure)
    {
        await using var app = CreateBuilder(configure).Build();
        await app.StartAsync();
    }

    private static WebApplicationBuilder CreateBuilder(Action<VoiceChatSocketLoopOptions>? configure)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, 0));
        builder.WebHost.UseVoiceChatSocketLoop(configure);
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        return builder;
    }

    private static async Task DigestAsync(HttpContext context)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = new byte[64 * 1024];
        long length = 0;
        for (int read; (read = await context.Request.Body.ReadAsync(buffer)) > 0;)
        {
            hash.AppendData(buffer, 0, read);
            length += read;
        }

        await context.Response.WriteAsync($"{length}:{Convert.ToHexString(hash.GetHashAndReset())}");
    }

    private static async Task DownloadAsync(HttpContext context)
    {
        var body = DownloadBody();
        context.Response.ContentLength = body.Length;
        for (var offset = 0; offset < body.Length; offset += 64 * 1024)
        {
            await context.Response.Body.WriteAsync(body.AsMemory(offset, 64 * 1024));
        }
    }

    private static async Task EchoAsync(HttpContext context)
    {
        using var socket = await context.WebSockets.AcceptWebSocketAsync();
        while (true)
        {
            var (type, message) = await ReceiveMessageAsync(socket);
            if (type == WebSocketMessageType.Close)
            {
                await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None);
                return;
            }

            await socket.SendAsync(message, type, endOfMessage: true, CancellationToken.None);
        }
    }

    // Echoes until the receive ends, then reports how it ended.
    private async Task WatchAsync(HttpContext context)
    {
        using var socket = await context.WebSockets.AcceptWebSocketAsync();
        try
        {
            while (true)
            {
                var (type, message) = await ReceiveMessageAsync(socket);
                if (type == WebSocketMessageType.Close)
                {
                    _watchEnded.TrySetResult("Close");
                    return;
                }

                await socket.SendAsync(message, type, endOfMessage: true, CancellationToken.None);
            }
        }
        catch (Exception ex) when (ex is WebSocketException or IOException or OperationCanceledException)
        {
            _watchEnded.TrySetResult(ex.GetType().Name);
        }
    }

    private static async Task AbortAsync(HttpContext context)
    {
        using var socket = await context.WebSockets.AcceptWebSocketAsync();
        await ReceiveMessageAsync(socket);
        context.Abort();
    }

    private async Task<ClientWebSocket> ConnectAsync(string path)
    {
        var client = new ClientWebSocket();
        using var timeout = new CancellationTokenSource(Wait);
        await client.ConnectAsync(WebSocketUrl(path), timeout.Token);
        return client;
    }

    private static async Task<(WebSocketMessageType Type, byte[] Message)> ReceiveMessageAsync(WebSocket socket)
    {
        using var message = new MemoryStream();
        var buffer = new byte[64 * 1024];
        while (true)
        {
            var result = await socket.ReceiveAsync(buffer.AsMemory(), CancellationToken.None);
            message.Write(buffer, 0, result.Count);
            if (result.MessageType == WebSocketMessageType.Close || result.EndOfMessage)
            {
                return (result.MessageType, message.ToArray());
            }
        }
    }

    private static async Task<string> Outcome(Task<WebSocketReceiveResult> receiving)
    {
        try
        {
            return (await receiving).MessageType.ToString();
        }
        catch (WebSocketException ex)
        {
            return ex.GetType().Name;
        }
    }

    private static byte[] DownloadBody() => RandomBytes(LargeBody, seed: 3);

    private static byte[] RandomBytes(int count, int seed)
    {
        var bytes = new byte[count];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }
}
