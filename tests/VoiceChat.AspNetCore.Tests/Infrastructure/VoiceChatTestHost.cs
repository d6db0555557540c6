using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using VoiceChat.Testing;

namespace VoiceChat.Tests.Infrastructure;

/// <summary>A real Kestrel host on 127.0.0.1:0 running the relay, in front of a real emulator on its own port.</summary>
internal sealed class VoiceChatTestHost : IAsyncDisposable
{
    private VoiceChatTestHost(WebApplication app, LiveApiEmulator emulator, Uri baseUrl)
    {
        App = app;
        Emulator = emulator;
        BaseUrl = baseUrl;
    }

    public WebApplication App { get; }

    public LiveApiEmulator Emulator { get; }

    /// <summary>http://127.0.0.1:port</summary>
    public Uri BaseUrl { get; }

    public Uri VoiceUrl => new($"ws://{BaseUrl.Authority}/voice");

    public static async Task<VoiceChatTestHost> StartAsync(
        Action<VoiceChatOptions>? configure = null,
        Action<LiveApiEmulatorOptions>? emulator = null,
        Action<WebApplicationBuilder, IVoiceChatBuilder>? services = null,
        Action<WebApplication>? map = null)
    {
        var emulatorOptions = new LiveApiEmulatorOptions { ExpectedApiKey = "test-key" };
        emulator?.Invoke(emulatorOptions);
        var liveApi = await LiveApiEmulator.StartAsync(emulatorOptions);

        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, 0));
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        var voiceChat = builder.Services.AddVoiceChat(o =>
        {
            o.Gemini.BaseUrl = liveApi.BaseUrl;
            o.Gemini.ApiKey = "test-key";

            // Most tests are about the relay, not about who may use it: they opt in to anonymous
            // clients explicitly; the authentication tests turn it off again.
            o.AllowAnonymous = true;
            configure?.Invoke(o);
        });
        services?.Invoke(builder, voiceChat);

        var app = builder.Build();
        if (map is null)
        {
            app.MapVoiceChat();
        }
        else
        {
            map(app);
        }

        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new VoiceChatTestHost(app, liveApi, new Uri(address));
    }

    public async Task<VoiceClient> ConnectAsync(Action<System.Net.WebSockets.ClientWebSocketOptions>? configure = null) =>
        await VoiceClient.ConnectAsync(VoiceUrl, configure);

    /// <summary>Attempts an upgrade that the server is expected to refuse; returns the HTTP status it answered.</summary>
    public async Task<HttpStatusCode> RefusedUpgradeAsync(Action<System.Net.WebSockets.ClientWebSocketOptions>? configure = null)
    {
        using var socket = new System.Net.WebSockets.ClientWebSocket();
        socket.Options.CollectHttpResponseDetails = true;
        configure?.Invoke(socket.Options);
        using var timeout = new CancellationTokenSource(VoiceClient.DefaultWait);

        var connecting = () => socket.ConnectAsync(VoiceUrl, timeout.Token);

        await connecting.Should().ThrowAsync<System.Net.WebSockets.WebSocketException>();
        return socket.HttpStatusCode;
    }

    /// <summary>
    /// <paramref name="sessions"/> clients at once, each saying one turn at its own pitch (200 Hz, 240 Hz, …);
    /// returns the pitch each sent and the pitch of the audio it heard back.
    /// </summary>
    public async Task<(int Expected, double Heard)[]> TalkAtOnceAsync(int sessions) =>
        await Task.WhenAll(Enumerable.Range(0, sessions).Select(async i =>
        {
            var frequency = 200 + (40 * i);
            await using var client = await ConnectAsync();
            await client.StartAsync($"user-{i}");
            await client.StreamAsync(Pcm.Concat(Pcm.Speech(1.2, frequency), Pcm.Silence(1.0)));
            await client.WaitForAsync("turn_complete");
            return (Expected: frequency, Heard: Pcm.EstimateFrequency(client.Audio.ToArray(), 24000));
        }));

    public async ValueTask DisposeAsync()
    {
        using (var stopping = new CancellationTokenSource(TimeSpan.FromSeconds(15)))
        {
            await App.StopAsync(stopping.Token);
        }

        await App.DisposeAsync();
        await Emulator.DisposeAsync();
    }
}
