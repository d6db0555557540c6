using System.Net;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;

namespace VoiceChat.Tests.Live.Integration;

/// <summary>
/// A bare WebSocket server on loopback whose every connection runs a test's script: for the edge
/// cases the emulator does not script (a connection that never issues a resumption handle, a call id
/// asked for again after a resume, an upgrade refused with an HTTP status).
/// </summary>
internal sealed class ScriptedLiveServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private int _connections;

    private ScriptedLiveServer(WebApplication app) => _app = app;

    public Uri BaseUrl { get; private set; } = null!;

    public int Connections => Volatile.Read(ref _connections);

    public static async Task<ScriptedLiveServer> StartAsync(Func<ScriptedConnection, Task> script, int? refuseWithStatus = null)
    {
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.WebHost.UseKestrelCore().ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        var server = new ScriptedLiveServer(app);
        app.UseWebSockets();
        app.Run(async context =>
        {
            if (refuseWithStatus is { } status)
            {
                context.Response.StatusCode = status;
                return;
            }

            if (!context.WebSockets.IsWebSocketRequest)
            {
                context.Response.StatusCode = 400;
                return;
            }

            var number = Interlocked.Increment(ref server._connections);
            using var socket = await context.WebSockets.AcceptWebSocketAsync();
            var connection = new ScriptedConnection(socket, number);
            try
            {
                await script(connection);
            }
            catch (Exception ex) when (ex is WebSocketException or OperationCanceledException)
            {
            }
        });
        await app.StartAsync();
        server.BaseUrl = new Uri(app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First());
        return server;
    }

    public async ValueTask DisposeAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        try
        {
            await _app.StopAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
        }

        await _app.DisposeAsync();
    }
}

internal sealed class ScriptedConnection(WebSocket socket, int number)
{
    public int Number { get; } = number;

    /// <summary>Reads the next client message as JSON.</summary>
    public async Task<JsonElement> ReceiveAsync()
    {
        using var timeout = new CancellationTokenSource(LiveHarness.Patience);
        var buffer = new byte[64 * 1024];
        var length = 0;
        WebSocketReceiveResult result;
        do
        {
            result = await socket.ReceiveAsync(new ArraySegment<byte>(buffer, length, buffer.Length - length), timeout.Token);
            if (result.MessageType == WebSocketMessageType.Close)
            {
                if (socket.State == WebSocketState.CloseReceived)
                {
                    await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None);
                }

                throw new WebSocketException("closed by the client");
            }

            length += result.Count;
        }
        while (!result.EndOfMessage);

        return JsonDocument.Parse(buffer.AsMemory(0, length)).RootElement.Clone();
    }

    /// <summary>Reads messages until one has <paramref name="key"/>.</summary>
    public async Task<JsonElement> ReceiveUntilAsync(string key)
    {
        while (true)
        {
            var message = await ReceiveAsync();
            if (message.TryGetProperty(key, out var value))
            {
                return value;
            }
        }
    }

    public Task SendAsync(string json) =>
        socket.SendAsync(Encoding.UTF8.GetBytes(json), WebSocketMessageType.Binary, true, CancellationToken.None);

    /// <summary>Sends <paramref name="message"/> as it is, whatever it holds.</summary>
    public Task SendBytesAsync(byte[] message, WebSocketMessageType type) =>
        socket.SendAsync(message, type, true, CancellationToken.None);

    /// <summary>The code of the client's close frame, once one was received.</summary>
    public WebSocketCloseStatus? CloseStatus => socket.CloseStatus;

    public async Task CloseAsync(int status, string reason)
    {
        await socket.CloseOutputAsync((WebSocketCloseStatus)status, reason, CancellationToken.None);
        try
        {
            await ReceiveAsync();
        }
        catch (WebSocketException)
        {
        }
    }

    /// <summary>Runs until the client closes.</summary>
    public async Task DrainAsync()
    {
        try
        {
            while (true)
            {
                await ReceiveAsync();
            }
        }
        catch (WebSocketException)
        {
        }
    }
}
