using System.Net;
using Microsoft.Extensions.Logging;
using VoiceChat.Tests.Infrastructure;

namespace VoiceChat.Tests.Authentication;

public sealed class CredentialLoggingTests
{
    [Fact]
    public async Task No_token_or_ticket_appears_in_any_log_at_trace_level()
    {
        var logs = new LogCapture();
        // Everything at Trace, over any appsettings.json: the only cap left is the one VoiceChat puts on request URLs.
        await using var host = await AuthenticationTestHost.StartAsync(logging: l => l.AddProvider(logs)
            .AddFilter(category: null, LogLevel.Trace)
            .AddFilter("Microsoft", LogLevel.Trace)
            .AddFilter("Microsoft.AspNetCore", LogLevel.Trace));
        var token = host.Token("erin");
        var expired = host.ExpiredToken("erin");
        var ticket = await host.MintTicketAsync(token);
        var unused = await host.MintTicketAsync(token);
        var tampered = unused[..^4] + "AAAA";

        await (await AuthenticationTestHost.StartSessionAsync(host.VoiceUrlWith(ticket))).DisposeAsync();
        await (await AuthenticationTestHost.StartSessionAsync(host.VoiceUrl, AuthenticationTestHost.Bearer(token))).DisposeAsync();

        (await AuthenticationTestHost.UpgradeStatusAsync(host.VoiceUrlWith(ticket))).Should().Be(HttpStatusCode.Unauthorized);
        (await AuthenticationTestHost.UpgradeStatusAsync(host.VoiceUrlWith(tampered))).Should().Be(HttpStatusCode.Unauthorized);
        (await AuthenticationTestHost.UpgradeStatusAsync(host.VoiceUrl, AuthenticationTestHost.Bearer(expired))).Should().Be(HttpStatusCode.Unauthorized);
        (await AuthenticationTestHost.UpgradeStatusAsync(host.VoiceUrl, AuthenticationTestHost.Bearer(token[..^3]))).Should().Be(HttpStatusCode.Unauthorized);
        logs.Entries.Should().Contain(e => e.Contains("started for user erin (verified: True)", StringComparison.Ordinal), "the sessions were logged at all");
        logs.Entries.Should().Contain(e => e.StartsWith("Trace Microsoft.AspNetCore", StringComparison.Ordinal), "the framework logged at Trace");
        logs.Entries.Should().Contain(e => e.Contains("VoiceChatTicket was not authenticated", StringComparison.Ordinal), "the refused tickets were logged");
        string[] secrets = [token, expired, token[..^3], ticket, unused, tampered, .. token.Split('.'), .. expired.Split('.')[..2], ticket[..40], unused[..40]];
        foreach (var secret in secrets)
        {
            logs.Entries.Should().NotContain(e => e.Contains(secret, StringComparison.Ordinal));
        }
    }
}
