using System.Buffers.Binary;
using System.Diagnostics;
using System.Net;
using System.Security.Claims;
using System.Text.Encodings.Web;
using System.Text.Json;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using VoiceChat.Probe;
using VoiceChat.Tests.Infrastructure;

namespace VoiceChat.Tests.Probe;

/// <summary>voicechat-probe against real servers on loopback: the sample, the relay, and servers that are not the voice endpoint.</summary>
public sealed class VoiceProbeTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Completes_a_voice_turn_against_the_sample_server()
    {
        // An explicit "urls" keeps the sample off its default port 8080 (the sample server tests may hold it).
        await using var sample = new WebApplicationFactory<Program>().WithWebHostBuilder(b => b
            .UseSetting("VoiceChat:Gemini:ApiKey", string.Empty)
            .UseSetting("urls", "http://127.0.0.1:0"));
        sample.UseKestrel();
        sample.StartServer();
        var address = sample.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        var port = new Uri(address).Port;

        var result = await RunAsync(new Uri($"ws://127.0.0.1:{port}/voice"));

        result.Message.Should().BeNull();
        result.Succeeded.Should().BeTrue();
        result.ExitCode.Should().Be(0);
        result.SessionId.Should().NotBeNullOrEmpty();
        result.Transcripts.Select(t => t.Role).Should().Contain(["user", "assistant"]);
        result.AudioSeconds.Should().BeGreaterThan(0.5);
        result.TimeToFirstAudio.Should().NotBeNull();
        result.ToText().Should().Contain("OK: a full voice turn completed");
    }

    [Fact]
    public async Task Says_a_wav_file_and_a_typed_turn_through_the_relay()
    {
        await using var host = await VoiceChatTestHost.StartAsync();
        var wav = Path.Combine(Path.GetTempPath(), $"probe-{Guid.NewGuid():N}.wav");
        try
        {
            // 44.1 kHz stereo, as a recorder writes it: mixed down and resampled to 16 kHz by the probe.
            await File.WriteAllBytesAsync(wav, Wav(Pcm.Speech(1.5, sampleRate: 44100), sampleRate: 44100, channels: 2));

            var spoken = await RunAsync(host.VoiceUrl, utterance: Utterance.FromWav(wav, await File.ReadAllBytesAsync(wav)));
            var typed = await RunAsync(host.VoiceUrl, utterance: Utterance.Typed("Are you there?"));

            spoken.Succeeded.Should().BeTrue(spoken.Message);
            spoken.Transcripts.Should().Contain(t => t.Role == "user");
            typed.Succeeded.Should().BeTrue(typed.Message);
            typed.AudioBytes.Should().BeGreaterThan(0);
        }
        finally
        {
            File.Delete(wav);
        }
    }

    [Fact]
    public async Task An_http_server_without_websockets_is_named_as_not_the_voice_endpoint()
    {
        await using var app = await StartAsync(app => app.Run(context => context.Response.WriteAsync("OK")));

        var result = await RunAsync(VoiceUrl(app));

        result.Failure.Should().Be(ProbeFailure.NotVoiceEndpoint);
        result.HttpStatus.Should().Be(200);
        result.Message.Should().Contain("answered HTTP 200 without a WebSocket upgrade: this is not the VoiceChat endpoint (is the right server running?)");
        result.ExitCode.Should().Be(1);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_websocket_that_closes_right_after_the_upgrade_fails_the_probe(bool closeHandshake)
    {
        await using var app = await StartAsync(app =>
        {
            app.UseWebSockets();
            app.Run(async context =>
            {
                using var socket = await context.WebSockets.AcceptWebSocketAsync();
                if (closeHandshake)
                {
                    await socket.CloseOutputAsync(System.Net.WebSockets.WebSocketCloseStatus.InternalServerError, "not here", context.RequestAborted);
                }
                else
                {
                    // Drops the connection once the client has spoken, as a crashing server does.
                    await socket.ReceiveAsync(new byte[4096], context.RequestAborted);
                    socket.Abort();
                }
            });
        });

        var result = await RunAsync(VoiceUrl(app));

        result.Failure.Should().Be(ProbeFailure.Closed, result.Message);
        result.SessionId.Should().BeNull();
        result.Message.Should().Contain("accepted the WebSocket and").And.Contain("without session_started");
        if (closeHandshake)
        {
            result.CloseStatus.Should().Be(1011);
        }
    }

    [Fact]
    public async Task A_websocket_that_never_starts_the_session_times_out_with_what_was_missing()
    {
        await using var app = await StartAsync(app =>
        {
            app.UseWebSockets();
            app.Run(async context =>
            {
                using var socket = await context.WebSockets.AcceptWebSocketAsync();
                await socket.ReceiveAsync(new byte[4096], context.RequestAborted);
                await Task.Delay(Timeout.Infinite, context.RequestAborted);
            });
        });

        var result = await new VoiceProbe(new ProbeOptions
        {
            Url = VoiceUrl(app),
            UserId = ProbeOptions.DefaultUserId,
            Utterance = Utterance.Generated(TimeSpan.FromSeconds(1)),
            Timeout = TimeSpan.FromSeconds(2),
        }).RunAsync();

        result.Failure.Should().Be(ProbeFailure.Timeout, result.Message);
        result.Message.Should().Contain("accepted the WebSocket but sent no session_started within 2 s");
    }

    [Fact]
    public async Task An_error_from_the_voice_endpoint_is_reported_with_its_code()
    {
        // The relay's key is refused by the model service: the kind of error a deploy with a wrong secret gets.
        await using var host = await VoiceChatTestHost.StartAsync(o => o.Gemini.ApiKey = "not-the-key");

        var result = await RunAsync(host.VoiceUrl);

        result.Failure.Should().Be(ProbeFailure.ServerError);
        result.ErrorCode.Should().Be(VoiceChatErrorCodes.UpstreamAuthFailed);
        result.Message.Should().Contain($"error '{VoiceChatErrorCodes.UpstreamAuthFailed}'").And.Contain("credentials");
    }

    [Fact]
    public async Task A_protected_endpoint_needs_the_token_and_completes_a_turn_with_it()
    {
        await using var host = await StartProtectedAsync();

        var anonymous = await RunAsync(host.VoiceUrl);
        var wrongToken = await RunAsync(host.VoiceUrl, token: "stolen");
        var withToken = await RunAsync(host.VoiceUrl, token: BearerHandler.Token);

        anonymous.Failure.Should().Be(ProbeFailure.Unauthorized);
        anonymous.ExitCode.Should().Be(3);
        anonymous.Message.Should().Contain("requires authentication (HTTP 401)").And.Contain(ProbeOptions.TokenVariable);
        wrongToken.Failure.Should().Be(ProbeFailure.Unauthorized);
        wrongToken.Message.Should().Contain("refused the token");
        withToken.Succeeded.Should().BeTrue(withToken.Message);
    }

    [Fact]
    public async Task The_tool_reads_its_token_from_the_environment_and_prints_json()
    {
        await using var host = await StartProtectedAsync();

        var (exitCode, output) = await RunToolAsync([host.VoiceUrl.ToString(), "--json", "--timeout", "30"], BearerHandler.Token);
        var (refusedCode, refused) = await RunToolAsync([host.VoiceUrl.ToString()], token: null);

        exitCode.Should().Be(0, output);
        using var json = JsonDocument.Parse(output);
        json.RootElement.GetProperty("ok").GetBoolean().Should().BeTrue();
        json.RootElement.GetProperty("session_id").GetString().Should().NotBeNullOrEmpty();
        json.RootElement.GetProperty("audio_bytes").GetInt64().Should().BeGreaterThan(0);
        refusedCode.Should().Be(3);
        refused.Should().Contain("FAILED: ").And.Contain("HTTP 401");
    }

    [Fact]
    public void The_command_line_takes_http_urls_and_a_token_from_the_environment()
    {
        var options = ProbeCommandLine.Parse(["https://voice.example.com/voice", "--timeout", "12"]).CreateOptions(environmentToken: "from-env");
        var anonymous = ProbeCommandLine.Parse(["http://127.0.0.1:8080/voice", "--token", ""]).CreateOptions(environmentToken: null);

        options.Url.Should().Be(new Uri("wss://voice.example.com/voice"));
        options.Token.Should().Be("from-env");
        options.UserId.Should().BeNull("with a token the server takes the user from it");
        options.Timeout.Should().Be(TimeSpan.FromSeconds(12));
        anonymous.Url.Should().Be(new Uri("ws://127.0.0.1:8080/voice"));
        anonymous.UserId.Should().Be(ProbeOptions.DefaultUserId);
        FluentActions.Invoking(() => ProbeCommandLine.Parse(["ws://a/voice", "--wav", "x.wav", "--text", "hi"])).Should().Throw<FormatException>();
        FluentActions.Invoking(() => ProbeCommandLine.Parse(["ftp://a/voice"]).CreateOptions(null)).Should().Throw<FormatException>();
    }

    private static async Task<ProbeResult> RunAsync(Uri url, string? token = null, Utterance? utterance = null)
    {
        var options = new ProbeOptions
        {
            Url = url,
            Token = token,
            UserId = token is null ? ProbeOptions.DefaultUserId : null,
            Utterance = utterance ?? Utterance.Generated(TimeSpan.FromSeconds(1.5)),
            Timeout = Bound,
        };
        return await new VoiceProbe(options).RunAsync();
    }

    /// <summary>The built tool in a process of its own, as an operator or a deploy script runs it.</summary>
    private static async Task<(int ExitCode, string Output)> RunToolAsync(string[] args, string? token)
    {
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "VoiceChat.Probe.dll"));
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        start.Environment[ProbeOptions.TokenVariable] = token;
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var bound = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        try
        {
            await process.WaitForExitAsync(bound.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }

        return (process.ExitCode, await stdout + await stderr);
    }

    private static async Task<VoiceChatTestHost> StartProtectedAsync() => await VoiceChatTestHost.StartAsync(
        services: (builder, _) =>
        {
            builder.Services.AddAuthentication(BearerHandler.SchemeName).AddScheme<AuthenticationSchemeOptions, BearerHandler>(BearerHandler.SchemeName, null);
            builder.Services.AddAuthorization();
        },
        map: app =>
        {
            app.UseAuthentication();
            app.UseAuthorization();
            app.MapVoiceChat().RequireAuthorization();
        });

    private static async Task<WebApplication> StartAsync(Action<WebApplication> configure)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, 0));
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        var app = builder.Build();
        configure(app);
        await app.StartAsync();
        return app;
    }

    private static Uri VoiceUrl(WebApplication app) =>
        new($"ws://{new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First()).Authority}/voice");

    /// <summary>A RIFF/WAVE file of 16-bit PCM; every channel carries the same samples.</summary>
    private static byte[] Wav(byte[] mono, int sampleRate, int channels)
    {
        var data = new byte[mono.Length * channels];
        for (var i = 0; i < mono.Length / 2; i++)
        {
            for (var c = 0; c < channels; c++)
            {
                mono.AsSpan(i * 2, 2).CopyTo(data.AsSpan(((i * channels) + c) * 2));
            }
        }

        var wav = new byte[44 + data.Length];
        "RIFF"u8.CopyTo(wav);
        BinaryPrimitives.WriteInt32LittleEndian(wav.AsSpan(4), 36 + data.Length);
        "WAVEfmt "u8.CopyTo(wav.AsSpan(8));
        BinaryPrimitives.WriteInt32LittleEndian(wav.AsSpan(16), 16);
        BinaryPrimitives.WriteInt16LittleEndian(wav.AsSpan(20), 1);
        BinaryPrimitives.WriteInt16LittleEndian(wav.AsSpan(22), (short)channels);
        BinaryPrimitives.WriteInt32LittleEndian(wav.AsSpan(24), sampleRate);
        BinaryPrimitives.WriteInt32LittleEndian(wav.AsSpan(28), sampleRate * channels * 2);
        BinaryPrimitives.WriteInt16LittleEndian(wav.AsSpan(32), (short)(channels * 2));
        BinaryPrimitives.WriteInt16LittleEndian(wav.AsSpan(34), 16);
        "data"u8.CopyTo(wav.AsSpan(36));
        BinaryPrimitives.WriteInt32LittleEndian(wav.AsSpan(40), data.Length);
        data.CopyTo(wav.AsSpan(44));
        return wav;
    }

    /// <summary>Bearer authentication with one valid token, standing in for the app's own (JWT, for example).</summary>
    private sealed class BearerHandler(IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder)
        : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
    {
        public const string SchemeName = "Bearer";
        public const string Token = "probe-token";

        protected override Task<AuthenticateResult> HandleAuthenticateAsync()
        {
            var header = Request.Headers.Authorization.ToString();
            if (!header.StartsWith("Bearer ", StringComparison.Ordinal))
            {
                return Task.FromResult(AuthenticateResult.NoResult());
            }

            if (header["Bearer ".Length..] != Token)
            {
                return Task.FromResult(AuthenticateResult.Fail("invalid token"));
            }

            var identity = new ClaimsIdentity([new Claim(ClaimTypes.NameIdentifier, "probe-user")], SchemeName);
            return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), SchemeName)));
        }
    }
}
