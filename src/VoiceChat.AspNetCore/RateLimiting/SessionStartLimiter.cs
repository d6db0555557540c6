using System.Diagnostics;
using System.Threading.RateLimiting;

namespace VoiceChat.AspNetCore.RateLimiting;

/// <summary>Who starts a session: the caller (the user, else the address) and the address.</summary>
internal readonly record struct SessionStarter(string Caller, string Address);

/// <summary>
/// Session starts per caller and per address: two partitioned token buckets chained, so a start
/// takes a token from both or from neither.
/// </summary>
internal sealed class SessionStartLimiter
{
    private readonly PartitionedRateLimiter<SessionStarter> _chained;

    public SessionStartLimiter(VoiceChatOptions options)
    {
        var perCaller = options.MaxSessionStartsPerMinute;
        var perAddress = options.MaxSessionStartsPerMinutePerAddress;
        _chained = PartitionedRateLimiter.CreateChained(
            PartitionedRateLimiter.Create<SessionStarter, string>(s => RateLimitPartition.GetTokenBucketLimiter(s.Caller, _ => PerMinute(perCaller))),
            PartitionedRateLimiter.Create<SessionStarter, string>(s => RateLimitPartition.GetTokenBucketLimiter(s.Address, _ => PerMinute(perAddress))));
    }

    /// <summary>The limiter of one partition of the endpoint's policy.</summary>
    public RateLimiter For(SessionStarter starter) => new StarterLimiter(_chained, starter);

    private static TokenBucketRateLimiterOptions PerMinute(int starts) => new()
    {
        TokenLimit = starts,
        TokensPerPeriod = 1,
        ReplenishmentPeriod = TimeSpan.FromMinutes(1) / starts,
        QueueLimit = 0,
        AutoReplenishment = true,
    };

    /// <summary>
    /// Holds no tokens of its own: it only tells the framework when it was last used, so that the
    /// partition is dropped once idle (the shared buckets live on).
    /// </summary>
    private sealed class StarterLimiter(PartitionedRateLimiter<SessionStarter> chained, SessionStarter starter) : RateLimiter
    {
        private long _lastUsed = Stopwatch.GetTimestamp();

        public override TimeSpan? IdleDuration => Stopwatch.GetElapsedTime(Volatile.Read(ref _lastUsed));

        public override RateLimiterStatistics? GetStatistics() => null;

        protected override RateLimitLease AttemptAcquireCore(int permitCount)
        {
            Volatile.Write(ref _lastUsed, Stopwatch.GetTimestamp());
            return chained.AttemptAcquire(starter, permitCount);
        }

        protected override ValueTask<RateLimitLease> AcquireAsyncCore(int permitCount, CancellationToken cancellationToken) =>
            ValueTask.FromResult(AttemptAcquireCore(permitCount));
    }
}
