namespace VoiceChat.Sessions;

/// <summary>
/// How much of one kind of client input (audio bytes, text messages) a session accepts: a token
/// bucket that refills at a steady rate up to a burst allowance. What it refuses fills a second
/// bucket that drains at the same rate; when that one outgrows the allowance too, the client keeps
/// on well above the rate. Numbers and timestamps only: nothing is allocated per frame.
/// </summary>
internal struct InputAllowance
{
    private readonly double _capacity;
    private readonly double _perTick;
    private double _available;
    private double _refused;
    private long _last;

    /// <param name="capacity">The burst allowance, in the unit of the amounts taken.</param>
    /// <param name="perSecond">The steady rate, in the same unit.</param>
    /// <param name="now">A timestamp of the session's <see cref="TimeProvider"/>.</param>
    /// <param name="frequency">The <see cref="TimeProvider.TimestampFrequency"/> of that provider.</param>
    public InputAllowance(double capacity, double perSecond, long now, long frequency)
    {
        _capacity = capacity;
        _perTick = perSecond / frequency;
        _available = capacity;
        _last = now;
    }

    public InputVerdict Take(double amount, long now)
    {
        var refill = Math.Max(0, now - _last) * _perTick;
        _last = now;
        _available = Math.Min(_capacity, _available + refill);
        _refused = Math.Max(0, _refused - refill);
        var wasRefusing = _refused > 0;
        if (amount <= _available)
        {
            _available -= amount;
            return InputVerdict.Accepted;
        }

        _refused += amount;
        if (_refused > _capacity)
        {
            return InputVerdict.Exceeded;
        }

        return wasRefusing ? InputVerdict.RefusedAgain : InputVerdict.Refused;
    }
}

internal enum InputVerdict
{
    Accepted,

    /// <summary>Dropped, the first since the client was last within its allowance: tell it.</summary>
    Refused,

    /// <summary>Dropped while the client is still told.</summary>
    RefusedAgain,

    /// <summary>The client kept on far beyond its allowance: end the session.</summary>
    Exceeded,
}
