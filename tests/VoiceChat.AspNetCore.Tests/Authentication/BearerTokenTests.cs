using System.Net;
using Microsoft.IdentityModel.Tokens;
using VoiceChat.Tests.Infrastructure;

namespace VoiceChat.Tests.Authentication;

public sealed class BearerTokenTests : IAsyncLifetime
{
    private AuthenticationTestHost _host = null!;

    public async Task InitializeAsync() => _host = await AuthenticationTestHost.StartAsync();

    public async Task DisposeAsync() => await _host.DisposeAsync();

    [Fact]
    public async Task A_valid_token_starts_a_session_as_its_subject_with_a_verified_identity()
    {
        await using var client = await AuthenticationTestHost.StartSessionAsync(_host.VoiceUrl, AuthenticationTestHost.Bearer(_host.Token("alice")));

        _host.Setups.Should().Equal(("alice", true));
    }

    [Fact]
    public async Task A_user_id_other_than_the_token_subject_is_refused()
    {
        await using var client = await VoiceClient.ConnectAsync(_host.VoiceUrl, AuthenticationTestHost.Bearer(_host.Token("alice")));

        await client.SendJsonAsync("""{"type":"start_session","user_id":"mallory"}""");

        (await client.WaitForAsync("error")).GetProperty("code").GetString().Should().Be(VoiceChatErrorCodes.UserMismatch);
        _host.Setups.Should().BeEmpty();
    }

    [Fact]
    public async Task Without_a_token_the_upgrade_gets_401()
    {
        (await AuthenticationTestHost.UpgradeStatusAsync(_host.VoiceUrl)).Should().Be(HttpStatusCode.Unauthorized);
        _host.Host.Emulator.Connections.Should().BeEmpty();
    }

    [Fact]
    public async Task An_expired_token_gets_401()
    {
        var token = _host.ExpiredToken("alice");

        (await AuthenticationTestHost.UpgradeStatusAsync(_host.VoiceUrl, AuthenticationTestHost.Bearer(token))).Should().Be(HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task A_token_for_another_audience_gets_401()
    {
        var token = _host.Token("alice", d => d.Audience = "another-app");

        (await AuthenticationTestHost.UpgradeStatusAsync(_host.VoiceUrl, AuthenticationTestHost.Bearer(token))).Should().Be(HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task A_token_of_another_issuer_gets_401()
    {
        var token = _host.Token("alice", d => d.Issuer = "https://elsewhere.test/");

        (await AuthenticationTestHost.UpgradeStatusAsync(_host.VoiceUrl, AuthenticationTestHost.Bearer(token))).Should().Be(HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task A_tampered_token_gets_401()
    {
        // The payload says bob, the signature was made for alice.
        var alice = _host.Token("alice").Split('.');
        var bob = _host.Token("bob").Split('.');
        var tampered = $"{alice[0]}.{bob[1]}.{alice[2]}";

        (await AuthenticationTestHost.UpgradeStatusAsync(_host.VoiceUrl, AuthenticationTestHost.Bearer(tampered))).Should().Be(HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task A_token_signed_with_another_key_gets_401()
    {
        var token = _host.Token("alice", d => d.SigningCredentials = new SigningCredentials(AuthenticationTestHost.NewKey(), SecurityAlgorithms.HmacSha256));

        (await AuthenticationTestHost.UpgradeStatusAsync(_host.VoiceUrl, AuthenticationTestHost.Bearer(token))).Should().Be(HttpStatusCode.Unauthorized);
        _host.Host.Emulator.Connections.Should().BeEmpty();
    }
}

public sealed class FirebaseTokenTests
{
    [Fact]
    public async Task A_Firebase_ID_token_of_the_project_starts_a_session_as_its_uid()
    {
        await using var host = await AuthenticationTestHost.StartAsync(firebaseProjectId: "demo-voice");
        await using var client = await AuthenticationTestHost.StartSessionAsync(host.VoiceUrl, AuthenticationTestHost.Bearer(host.Token("firebase-uid-1")));

        host.Setups.Should().Equal(("firebase-uid-1", true));
    }

    [Fact]
    public async Task A_token_of_another_Firebase_project_gets_401()
    {
        await using var host = await AuthenticationTestHost.StartAsync(firebaseProjectId: "demo-voice");
        var token = host.Token("firebase-uid-1", d =>
        {
            d.Issuer = "https://securetoken.google.com/other-project";
            d.Audience = "other-project";
        });

        (await AuthenticationTestHost.UpgradeStatusAsync(host.VoiceUrl, AuthenticationTestHost.Bearer(token))).Should().Be(HttpStatusCode.Unauthorized);
    }
}
