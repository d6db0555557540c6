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
}
