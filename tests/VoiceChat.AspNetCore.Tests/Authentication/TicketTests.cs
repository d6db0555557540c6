using System.Net;
using Microsoft.Extensions.Time.Testing;
using VoiceChat.Tests.Infrastructure;

namespace VoiceChat.Tests.Authentication;

public sealed class TicketTests : IAsyncLifetime
{
    private readonly FakeTimeProvider _time = new(DateTimeOffset.UtcNow);
    private AuthenticationTestHost _host = null!;

    public async Task InitializeAsync() => _host = await AuthenticationTestHost.StartAsync(time: _time);

    public async Task DisposeAsync() => await _host.DisposeAsync();

    [Fact]
    public async Task A_ticket_from_the_endpoint_starts_a_session_as_the_user_it_was_minted_for()
    {
        var ticket = await _host.MintTicketAsync(_host.Token("carol"));

        await using var client = await AuthenticationTestHost.StartSessionAsync(_host.VoiceUrlWith(ticket));

        _host.Setups.Should().Equal(("carol", true));
    }

    [Fact]
    public async Task A_ticket_works_once_and_its_replay_gets_401()
    {
        var ticket = await _host.MintTicketAsync(_host.Token("carol"));

        (await AuthenticationTestHost.UpgradeStatusAsync(_host.VoiceUrlWith(ticket))).Should().Be(HttpStatusCode.SwitchingProtocols);
        (await AuthenticationTestHost.UpgradeStatusAsync(_host.VoiceUrlWith(ticket))).Should().Be(HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task An_expired_ticket_gets_401()
    {
        var ticket = await _host.MintTicketAsync(_host.Token("carol"));

        _time.Advance(TimeSpan.FromSeconds(31));

        (await AuthenticationTestHost.UpgradeStatusAsync(_host.VoiceUrlWith(ticket))).Should().Be(HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task A_ticket_used_within_its_lifetime_is_accepted()
    {
        var ticket = await _host.MintTicketAsync(_host.Token("carol"));

        _time.Advance(TimeSpan.FromSeconds(29));

        (await AuthenticationTestHost.UpgradeStatusAsync(_host.VoiceUrlWith(ticket))).Should().Be(HttpStatusCode.SwitchingProtocols);
    }

    [Fact]
    public async Task A_tampered_ticket_gets_401()
    {
        var ticket = await _host.MintTicketAsync(_host.Token("carol"));
        var middle = ticket.Length / 2;
        var tampered = ticket[..middle] + (ticket[middle] == 'A' ? 'B' : 'A') + ticket[(middle + 1)..];

        (await AuthenticationTestHost.UpgradeStatusAsync(_host.VoiceUrlWith(tampered))).Should().Be(HttpStatusCode.Unauthorized);

        // The untouched ticket still works: the refusal consumed nothing.
        (await AuthenticationTestHost.UpgradeStatusAsync(_host.VoiceUrlWith(ticket))).Should().Be(HttpStatusCode.SwitchingProtocols);
    }

    [Fact]
    public async Task A_ticket_minted_by_an_instance_with_other_Data_Protection_keys_gets_401()
    {
        await using var other = await AuthenticationTestHost.StartAsync();
        var ticket = await other.MintTicketAsync(other.Token("carol"));

        (await AuthenticationTestHost.UpgradeStatusAsync(_host.VoiceUrlWith(ticket))).Should().Be(HttpStatusCode.Unauthorized);
        _host.Host.Emulator.Connections.Should().BeEmpty();
    }

    [Fact]
    public async Task With_Redis_a_ticket_minted_on_one_instance_works_on_another_once()
    {
        await using var redis = await RedisServer.StartAsync();
        await using var a = await AuthenticationTestHost.StartAsync(redis: redis.Configuration);
        await using var b = await AuthenticationTestHost.StartAsync(redis: redis.Configuration);
        var ticket = await a.MintTicketAsync(a.Token("carol"));

        (await AuthenticationTestHost.UpgradeStatusAsync(b.VoiceUrlWith(ticket))).Should().Be(HttpStatusCode.SwitchingProtocols, "the key ring is shared");
        (await AuthenticationTestHost.UpgradeStatusAsync(a.VoiceUrlWith(ticket))).Should().Be(HttpStatusCode.Unauthorized, "a ticket is single-use across instances");
    }

    [Fact]
    public async Task The_ticket_endpoint_refuses_an_anonymous_caller()
    {
        using var http = new HttpClient();

        var response = await http.PostAsync(_host.TicketEndpoint, content: null);

        response.StatusCode.Should().Be(HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task A_ticket_cannot_mint_another_ticket()
    {
        var ticket = await _host.MintTicketAsync(_host.Token("carol"));
        using var http = new HttpClient();

        var response = await http.PostAsync(new Uri($"{_host.TicketEndpoint}?ticket={Uri.EscapeDataString(ticket)}"), content: null);

        response.StatusCode.Should().Be(HttpStatusCode.Unauthorized);
    }
}
