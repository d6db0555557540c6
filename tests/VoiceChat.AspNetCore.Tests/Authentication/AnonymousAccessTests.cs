using System.Net;
using Microsoft.Extensions.DependencyInjection;
using VoiceChat.Tests.Infrastructure;

namespace VoiceChat.Tests.Authentication;

public sealed class AnonymousAccessTests
{
    [Fact]
    public async Task Without_AllowAnonymous_and_without_authentication_start_up_fails_naming_what_to_set()
    {
        var starting = () => VoiceChatTestHost.StartAsync(configure: o => o.AllowAnonymous = false);

        var failure = await starting.Should().ThrowAsync<InvalidOperationException>();
        failure.Which.Message.Should().Contain("VoiceChat:Authentication:FirebaseProjectId")
            .And.Contain("VoiceChat:Authentication:Authority")
            .And.Contain("VoiceChat:AllowAnonymous");
    }

    [Fact]
    public async Task Authentication_added_without_an_issuer_is_no_authentication_at_all()
    {
        var starting = () => VoiceChatTestHost.StartAsync(
            configure: o => o.AllowAnonymous = false,
            services: (_, voiceChat) => voiceChat.AddAuthentication());

        await starting.Should().ThrowAsync<InvalidOperationException>().WithMessage("*VoiceChat:AllowAnonymous*");
    }

    [Fact]
    public async Task With_AllowAnonymous_the_client_user_id_is_the_user_and_it_is_unverified()
    {
        var setups = new List<(string, bool)>();
        await using var host = await VoiceChatTestHost.StartAsync(
            configure: o => o.AllowAnonymous = true,
            services: (_, voiceChat) => voiceChat.ConfigureSession((context, _) =>
            {
                lock (setups)
                {
                    setups.Add((context.UserId, context.IsUserVerified));
                }

                return ValueTask.CompletedTask;
            }));
        await using var client = await host.ConnectAsync();

        await client.StartAsync("dave");

        setups.Should().Equal(("dave", false));
    }

    [Fact]
    public async Task With_AllowAnonymous_a_presented_token_or_ticket_is_still_checked()
    {
        await using var host = await AuthenticationTestHost.StartAsync(allowAnonymous: true);

        await using (var anonymous = await VoiceClient.ConnectAsync(host.VoiceUrl))
        {
            await anonymous.StartAsync("dave");
        }

        await (await AuthenticationTestHost.StartSessionAsync(host.VoiceUrl, AuthenticationTestHost.Bearer(host.Token("alice")))).DisposeAsync();

        var ticket = await host.MintTicketAsync(host.Token("carol"));
        await using (var withTicket = await VoiceClient.ConnectAsync(host.VoiceUrlWith(ticket)))
        {
            await withTicket.SendJsonAsync("""{"type":"start_session","user_id":"carol"}""");
            await withTicket.WaitForAsync("session_started");
        }

        host.Setups.Should().Equal(("dave", false), ("alice", true), ("carol", true));
        var expired = host.ExpiredToken("alice");
        (await AuthenticationTestHost.UpgradeStatusAsync(host.VoiceUrl, AuthenticationTestHost.Bearer(expired))).Should().Be(HttpStatusCode.Unauthorized);
        (await AuthenticationTestHost.UpgradeStatusAsync(host.VoiceUrlWith(ticket))).Should().Be(HttpStatusCode.Unauthorized, "a used ticket does not become anonymous access");
    }
}
