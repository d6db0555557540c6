using System.Net;
using System.Net.Http.Headers;
using System.Net.WebSockets;
using System.Security.Claims;
using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Protocols.OpenIdConnect;
using Microsoft.IdentityModel.Tokens;
using VoiceChat.AspNetCore;
using VoiceChat.Testing;
using VoiceChat.Tests.Infrastructure;

namespace VoiceChat.Tests.Authentication;

/// <summary>
/// A relay that requires authentication: bearer tokens of a local issuer (signed with a key made here,
/// so no metadata is fetched), tickets from <c>/voice/ticket</c>, and its own ephemeral Data Protection keys.
/// </summary>
internal sealed class AuthenticationTestHost : IAsyncDisposable
{
    public const string Issuer = "https://issuer.voicechat.test/";
    public const string Audience = "voice-tests";

    private readonly List<(string UserId, bool Verified)> _setups = [];

    private AuthenticationTestHost(SecurityKey key, string issuer, string audience)
    {
        Key = key;
        TokenIssuer = issuer;
        TokenAudience = audience;
    }

    public VoiceChatTestHost Host { get; private set; } = null!;

    public SecurityKey Key { get; }

    public string TokenIssuer { get; }

    public string TokenAudience { get; }

    /// <summary>The user and verified flag of every session the setup hook saw.</summary>
    public IReadOnlyList<(string UserId, bool Verified)> Setups
    {
        get
        {
            lock (_setups)
            {
                return [.. _setups];
            }
        }
    }

    public static SecurityKey NewKey() => new SymmetricSecurityKey(RandomNumberGenerator.GetBytes(32)) { KeyId = Guid.NewGuid().ToString("N") };

    /// <param name="firebaseProjectId">Accept Firebase ID tokens of this project instead of the local issuer's.</param>
    /// <param name="time">The clock of the server (tickets expire by it).</param>
    /// <param name="emulator">Changes the emulator's options.</param>
    /// <param name="logging">Adds log providers or levels.</param>
    /// <param name="allowAnonymous">VoiceChat:AllowAnonymous.</param>
    /// <param name="redis">VoiceChat:Resume:Redis: the Data Protection keys and redeemed tickets are shared there.</param>
    public static async Task<AuthenticationTestHost> StartAsync(
        string? firebaseProjectId = null,
        TimeProvider? time = null,
        Action<LiveApiEmulatorOptions>? emulator = null,
        Action<ILoggingBuilder>? logging = null,
        bool allowAnonymous = false,
        string? redis = null)
    {
        var host = firebaseProjectId is null
            ? new AuthenticationTestHost(NewKey(), Issuer, Audience)
            : new AuthenticationTestHost(NewKey(), "https://securetoken.google.com/" + firebaseProjectId, firebaseProjectId);
        host.Host = await VoiceChatTestHost.StartAsync(
            configure: o =>
            {
                o.AllowAnonymous = allowAnonymous;
                o.Resume.Redis = redis;
            },
            emulator: emulator,
            services: (builder, voiceChat) =>
            {
                logging?.Invoke(builder.Logging);
                if (firebaseProjectId is null)
                {
                    voiceChat.AddJwtBearerAuthentication(Issuer, Audience);
                }
                else
                {
                    voiceChat.AddFirebaseAuthentication(firebaseProjectId);
                }

                // The issuer's keys are given here, as its discovery document would: nothing is fetched.
                builder.Services.Configure<JwtBearerOptions>(VoiceChatAuthenticationDefaults.BearerScheme, o =>
                {
                    var configuration = new OpenIdConnectConfiguration { Issuer = host.TokenIssuer };
                    configuration.SigningKeys.Add(host.Key);
                    o.Configuration = configuration;
                });
                if (redis is null)
                {
                    builder.Services.AddDataProtection().UseEphemeralDataProtectionProvider();
                }
                if (time is not null)
                {
                    builder.Services.AddSingleton(time);
                }

                voiceChat.ConfigureSession((context, _) =>
                {
                    lock (host._setups)
                    {
                        host._setups.Add((context.UserId, context.IsUserVerified));
                    }

                    return ValueTask.CompletedTask;
                });
            },
            map: app =>
            {
                app.MapVoiceChat();
                app.MapVoiceChatTickets();
            });
        return host;
    }

    public Uri VoiceUrl => Host.VoiceUrl;

    public Uri TicketEndpoint => new(Host.BaseUrl, "/voice/ticket");

    public Uri VoiceUrlWith(string ticket) => new($"{Host.VoiceUrl}?ticket={Uri.EscapeDataString(ticket)}");

    /// <summary>A token of this host's issuer for <paramref name="userId"/>, valid for an hour unless <paramref name="change"/> says otherwise.</summary>
    public string Token(string userId, Action<SecurityTokenDescriptor>? change = null)
    {
        var now = DateTime.UtcNow;
        var descriptor = new SecurityTokenDescriptor
        {
            Issuer = TokenIssuer,
            Audience = TokenAudience,
            Subject = new ClaimsIdentity([new Claim("sub", userId), new Claim("user_id", userId)]),
            IssuedAt = now,
            NotBefore = now,
            Expires = now.AddHours(1),
            SigningCredentials = new SigningCredentials(Key, SecurityAlgorithms.HmacSha256),
        };
        change?.Invoke(descriptor);
        return new JsonWebTokenHandler().CreateToken(descriptor);
    }

    /// <summary>A token of this host's issuer that expired an hour ago (beyond any clock skew).</summary>
    public string ExpiredToken(string userId) => Token(userId, d =>
    {
        d.IssuedAt = d.NotBefore = DateTime.UtcNow.AddHours(-2);
        d.Expires = DateTime.UtcNow.AddHours(-1);
    });

    /// <summary>Connects and starts a session without a <c>user_id</c>: the user is whoever the credential says.</summary>
    public static async Task<VoiceClient> StartSessionAsync(Uri url, Action<ClientWebSocketOptions>? configure = null)
    {
        var client = await VoiceClient.ConnectAsync(url, configure);
        await client.SendJsonAsync("""{"type":"start_session"}""");
        await client.WaitForAsync("session_started");
        return client;
    }

    public static Action<ClientWebSocketOptions> Bearer(string token) => o => o.SetRequestHeader("Authorization", "Bearer " + token);

    /// <summary>Mints a ticket at <c>/voice/ticket</c> with a bearer token.</summary>
    public async Task<string> MintTicketAsync(string token)
    {
        using var http = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, TicketEndpoint);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        using var response = await http.SendAsync(request);
        response.StatusCode.Should().Be(HttpStatusCode.OK);
        response.Headers.CacheControl!.NoStore.Should().BeTrue();
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        json.RootElement.GetProperty("expires_in").GetInt32().Should().Be(30);
        return json.RootElement.GetProperty("ticket").GetString()!;
    }

    /// <summary>Opens a WebSocket and returns the upgrade's status: 101 when it was accepted (the socket is then closed).</summary>
    public static async Task<HttpStatusCode> UpgradeStatusAsync(Uri url, Action<ClientWebSocketOptions>? configure = null, HttpMessageInvoker? invoker = null)
    {
        using var socket = new ClientWebSocket();
        socket.Options.CollectHttpResponseDetails = true;
        configure?.Invoke(socket.Options);
        using var timeout = new CancellationTokenSource(VoiceClient.DefaultWait);
        try
        {
            await socket.ConnectAsync(url, invoker, timeout.Token);
        }
        catch (WebSocketException)
        {
            return socket.HttpStatusCode;
        }

        await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, null, timeout.Token);
        return socket.HttpStatusCode;
    }

    public async ValueTask DisposeAsync() => await Host.DisposeAsync();
}
