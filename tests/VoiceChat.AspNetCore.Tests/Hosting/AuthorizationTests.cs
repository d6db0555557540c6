using System.Net;
using System.Net.WebSockets;
using System.Security.Claims;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using VoiceChat.Tests.Infrastructure;

namespace VoiceChat.Tests.Hosting;

public sealed class AuthorizationTests : IAsyncLifetime
{
    private readonly List<string> _hookUsers = [];
    private VoiceChatTestHost _host = null!;

    public async Task InitializeAsync() => _host = await VoiceChatTestHost.StartAsync(
        services: (builder, voiceChat) =>
        {
            builder.Services.AddAuthentication(TestAuthHandler.SchemeName).AddScheme<AuthenticationSchemeOptions, TestAuthHandler>(TestAuthHandler.SchemeName, null);
            builder.Services.AddAuthorization();
            voiceChat.ConfigureSession((context, _) =>
            {
                lock (_hookUsers)
                {
                    _hookUsers.Add(context.UserId);
                }

                return ValueTask.CompletedTask;
            });
        },
        map: app =>
        {
            app.UseAuthentication();
            app.UseAuthorization();
            app.MapVoiceChat().RequireAuthorization();
        });

    public async Task DisposeAsync() => await _host.DisposeAsync();

    [Fact]
    public async Task An_anonymous_upgrade_is_refused_with_401()
    {
        using var socket = new ClientWebSocket();
        socket.Options.CollectHttpResponseDetails = true;

        var connecting = () => socket.ConnectAsync(_host.VoiceUrl, CancellationToken.None);

        await connecting.Should().ThrowAsync<WebSocketException>();
        socket.HttpStatusCode.Should().Be(HttpStatusCode.Unauthorized);
        _host.Emulator.Connections.Should().BeEmpty();
    }

    [Fact]
    public async Task An_authenticated_user_needs_no_user_id_and_is_the_session_user()
    {
        await using var client = await _host.ConnectAsync(o => o.SetRequestHeader(TestAuthHandler.Header, "alice"));

        await client.SendJsonAsync("""{"type":"start_session"}""");
        await client.WaitForAsync("session_started");

        _hookUsers.Should().Equal("alice");
    }

    [Fact]
    public async Task A_different_user_id_is_refused_and_never_trusted()
    {
        await using var client = await _host.ConnectAsync(o => o.SetRequestHeader(TestAuthHandler.Header, "alice"));

        await client.SendJsonAsync("""{"type":"start_session","user_id":"mallory"}""");
        var error = await client.WaitForAsync("error");

        error.GetProperty("code").GetString().Should().Be(VoiceChatErrorCodes.UserMismatch);
        error.GetProperty("fatal").GetBoolean().Should().BeFalse();
        _host.Emulator.Connections.Should().BeEmpty();

        await client.StartAsync("alice");
        _hookUsers.Should().Equal("alice");
    }

    /// <summary>Authenticates whoever names themselves in a header: enough to test the endpoint's use of the principal.</summary>
    private sealed class TestAuthHandler(IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder)
        : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
    {
        public const string SchemeName = "Test";
        public const string Header = "X-Test-User";

        protected override Task<AuthenticateResult> HandleAuthenticateAsync()
        {
            if (!Request.Headers.TryGetValue(Header, out var user))
            {
                return Task.FromResult(AuthenticateResult.NoResult());
            }

            var identity = new ClaimsIdentity([new Claim(ClaimTypes.NameIdentifier, user.ToString())], SchemeName);
            return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), SchemeName)));
        }
    }
}
