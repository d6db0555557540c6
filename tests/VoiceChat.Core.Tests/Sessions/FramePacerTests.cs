using VoiceChat.Sessions;

namespace VoiceChat.Tests.Sessions;

public sealed class FramePacerTests
{
    private const long Frequency = 1000; // timestamps in milliseconds

    [Fact]
    public void Frames_at_the_rate_pass_despite_jitter()
    {
        var pacer = new FramePacer(framesPerSecond: 1, now: 0, Frequency);

        // 1 frame/s, each arriving up to a quarter of a second early or late.
        long[] arrivals = [0, 900, 2250, 2750, 4000, 4750, 6250, 6750, 8000];
        var passed = arrivals.Select(at => pacer.TryTake(at)).ToList();

        passed.Should().OnlyContain(p => p);
    }

    [Fact]
    public void A_burst_passes_its_first_frame_only()
    {
        var pacer = new FramePacer(framesPerSecond: 1, now: 0, Frequency);

        Enumerable.Range(0, 5).Select(_ => pacer.TryTake(10)).Should().Equal(true, false, false, false, false);
    }

    [Fact]
    public void Over_a_long_span_no_more_than_the_rate_passes()
    {
        var pacer = new FramePacer(framesPerSecond: 2, now: 0, Frequency);

        // 30 frames/s for 60 s: at most 2 a second, plus the first.
        var passed = Enumerable.Range(0, 30 * 60).Count(i => pacer.TryTake(i * 1000L / 30));
        passed.Should().BeInRange(119, 121);
    }
}
