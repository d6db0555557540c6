namespace VoiceChat.Sessions;

/// <summary>
/// The video frame rate of a session. A frame passes when at least half a frame interval of credit has
/// built up, and costs a whole one: a client that sends at the rate passes with its frames up to a
/// quarter interval early or late (timer and network jitter), while over any longer span no more than
/// the rate, plus the first frame, gets through. Numbers and timestamps only.
/// </summary>
internal struct FramePacer
{
    private readonly double _perTick;
    private double _credit;
    private long _last;

    /// <param name="framesPerSecond">The rate.</param>
    /// <param name="now">A timestamp of the session's <see cref="TimeProvider"/>.</param>
    /// <param name="frequency">The <see cref="TimeProvider.TimestampFrequency"/> of that provider.</param>
    public FramePacer(double framesPerSecond, long now, long frequency)
    {
        _perTick = framesPerSecond / frequency;
        _credit = 1;
        _last = now;
    }

    public bool TryTake(long now)
    {
        _credit = Math.Min(1, _credit + (Math.Max(0, now - _last) * _perTick));
        _last = now;
        if (_credit < 0.5)
        {
            return false;
        }

        _credit -= 1;
        return true;
    }
}
