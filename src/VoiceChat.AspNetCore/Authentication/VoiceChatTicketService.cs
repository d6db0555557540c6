using System.Buffers.Text;
using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.Options;

namespace VoiceChat.AspNetCore.Authentication;

/// <summary>
/// Mints and redeems tickets: a random id and the user's id, protected with Data Protection and an
/// expiry. A ticket is redeemed once: its id is remembered in this process until it expires (a
/// ticket that reaches another instance needs keys shared by both, and is then single-use per instance).
/// </summary>
internal sealed class VoiceChatTicketService
{
    /// <summary>Far longer than any ticket this service mints; longer input is refused before it is decoded.</summary>
    internal const int MaxTicketLength = 1024;

    private const int IdBytes = 16;

    private readonly ITimeLimitedDataProtector _protector;
    private readonly IOptionsMonitor<VoiceChatAuthenticationOptions> _options;
    private readonly TimeProvider _time;
    private readonly ConcurrentDictionary<string, DateTimeOffset> _redeemed = new(StringComparer.Ordinal);
    private readonly Lock _sweepLock = new();
    private DateTimeOffset _nextSweep;

    public VoiceChatTicketService(IDataProtectionProvider dataProtection, IOptionsMonitor<VoiceChatAuthenticationOptions> options, TimeProvider time)
    {
        _protector = dataProtection.CreateProtector("VoiceChat.Tickets.v1").ToTimeLimitedDataProtector();
        _options = options;
        _time = time;
    }

    public (string Ticket, TimeSpan Lifetime) Mint(string userId)
    {
        var lifetime = _options.CurrentValue.TicketLifetime;
        var payload = new byte[IdBytes + Encoding.UTF8.GetByteCount(userId)];
        RandomNumberGenerator.Fill(payload.AsSpan(0, IdBytes));
        Encoding.UTF8.GetBytes(userId, payload.AsSpan(IdBytes));
        var ticket = _protector.Protect(payload, _time.GetUtcNow() + lifetime);
        return (Base64Url.EncodeToString(ticket), lifetime);
    }

    /// <summary>The ticket's user, or null with the reason (which never contains the ticket).</summary>
    public string? Redeem(string? ticket, out string failure)
    {
        failure = "The ticket is malformed, tampered with, or from a server without the same Data Protection keys.";
        if (string.IsNullOrEmpty(ticket) || ticket.Length > MaxTicketLength)
        {
            return null;
        }

        byte[] payload;
        DateTimeOffset expires;
        try
        {
            payload = _protector.Unprotect(Base64Url.DecodeFromChars(ticket), out expires);
        }
        catch (Exception ex) when (ex is CryptographicException or FormatException)
        {
            return null;
        }

        var now = _time.GetUtcNow();
        if (expires <= now)
        {
            failure = "The ticket has expired.";
            return null;
        }

        if (payload.Length <= IdBytes)
        {
            return null;
        }

        Sweep(now);
        if (!_redeemed.TryAdd(Convert.ToHexString(payload, 0, IdBytes), expires))
        {
            failure = "The ticket was already used.";
            return null;
        }

        failure = string.Empty;
        return Encoding.UTF8.GetString(payload.AsSpan(IdBytes));
    }

    /// <summary>Forgets expired tickets (at most once per ticket lifetime), so the set holds only the tickets of the last two lifetimes.</summary>
    private void Sweep(DateTimeOffset now)
    {
        lock (_sweepLock)
        {
            if (now < _nextSweep)
            {
                return;
            }

            _nextSweep = now + _options.CurrentValue.TicketLifetime;
        }

        foreach (var (id, expires) in _redeemed)
        {
            if (expires <= now)
            {
                _redeemed.TryRemove(id, out _);
            }
        }
    }
}
