using System.Buffers.Text;
using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using StackExchange.Redis;
using VoiceChat.AspNetCore.Resume;

namespace VoiceChat.AspNetCore.Authentication;

/// <summary>
/// Mints and redeems tickets: a random id and the user's id, protected with Data Protection and an
/// expiry. A ticket is redeemed once: its id is remembered in this process until it expires and, with
/// <c>VoiceChat:Resume:Redis</c> set (which also shares the Data Protection keys), in Redis, so that
/// it is single-use across every instance. Without Redis a ticket that reaches another instance
/// needs keys shared by both, and is then single-use per instance.
/// </summary>
internal sealed partial class VoiceChatTicketService
{
    private const string RedeemedKeyPrefix = "voicechat:ticket:";

    /// <summary>Far longer than any ticket this service mints; longer input is refused before it is decoded.</summary>
    internal const int MaxTicketLength = 1024;

    private const int IdBytes = 16;

    private readonly ITimeLimitedDataProtector _protector;
    private readonly IOptionsMonitor<VoiceChatAuthenticationOptions> _options;
    private readonly TimeProvider _time;
    private readonly RedisConnection? _redis;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<string, DateTimeOffset> _redeemed = new(StringComparer.Ordinal);
    private readonly Lock _sweepLock = new();
    private DateTimeOffset _nextSweep;

    public VoiceChatTicketService(
        IDataProtectionProvider dataProtection,
        IOptionsMonitor<VoiceChatAuthenticationOptions> options,
        TimeProvider time,
        IOptions<VoiceChatOptions> voiceChat,
        RedisConnection redis,
        ILogger<VoiceChatTicketService> logger)
    {
        _protector = dataProtection.CreateProtector("VoiceChat.Tickets.v1").ToTimeLimitedDataProtector();
        _options = options;
        _time = time;
        _redis = string.IsNullOrWhiteSpace(voiceChat.Value.Resume.Redis) ? null : redis;
        _logger = logger;
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
    public async ValueTask<(string? UserId, string Failure)> RedeemAsync(string? ticket, CancellationToken cancellationToken)
    {
        var userId = Redeem(ticket, out var failure, out var id, out var expires);
        if (userId is null || _redis is null)
        {
            return (userId, failure);
        }

        try
        {
            // SET NX: the first instance to redeem the id wins; the key expires with the ticket.
            var database = await _redis.GetDatabaseAsync(cancellationToken).ConfigureAwait(false);
            var first = await database.StringSetAsync(RedeemedKeyPrefix + id, 1, expires - _time.GetUtcNow(), When.NotExists).WaitAsync(cancellationToken).ConfigureAwait(false);
            return first ? (userId, string.Empty) : (null, "The ticket was already used.");
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            // Redis is down: single-use holds in this process, as without Redis.
            Log.SharedRedeemFailed(_logger, ex.Message);
            return (userId, string.Empty);
        }
    }

    private string? Redeem(string? ticket, out string failure, out string id, out DateTimeOffset expires)
    {
        failure = "The ticket is malformed, tampered with, or from a server without the same Data Protection keys.";
        id = string.Empty;
        expires = default;
        if (string.IsNullOrEmpty(ticket) || ticket.Length > MaxTicketLength)
        {
            return null;
        }

        byte[] payload;
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
        id = Convert.ToHexString(payload, 0, IdBytes);
        if (!_redeemed.TryAdd(id, expires))
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

    private static partial class Log
    {
        [LoggerMessage(1701, LogLevel.Warning, "Tickets: Redis could not record a redeemed ticket ({Reason}); it is single-use in this process only.", EventName = "TicketSharedRedeemFailed")]
        public static partial void SharedRedeemFailed(ILogger logger, string reason);
    }
}
