using VoiceChat.Sessions;

namespace VoiceChat.Tests.Sessions;

public sealed class InputAllowanceTests
{
    private const long Frequency = 1000; // timestamps in milliseconds

    [Fact]
    public void Input_at_the_rate_is_always_accepted_after_the_burst_is_spent()
    {
        var allowance = new InputAllowance(capacity: 100, perSecond: 10, now: 0, Frequency);

        allowance.Take(100, 0).Should().Be(InputVerdict.Accepted);
        for (var second = 1; second <= 60; second++)
        {
            allowance.Take(10, second * Frequency).Should().Be(InputVerdict.Accepted);
        }
    }

    [Fact]
    public void Input_beyond_the_burst_is_refused_once_told_then_dropped_then_ends_the_session()
    {
        var allowance = new InputAllowance(capacity: 10, perSecond: 1, now: 0, Frequency);
        for (var i = 0; i < 10; i++)
        {
            allowance.Take(1, 0).Should().Be(InputVerdict.Accepted);
        }

        allowance.Take(1, 0).Should().Be(InputVerdict.Refused);
        for (var i = 0; i < 9; i++)
        {
            allowance.Take(1, 0).Should().Be(InputVerdict.RefusedAgain);
        }

        allowance.Take(1, 0).Should().Be(InputVerdict.Exceeded);
    }

    [Fact]
    public void A_client_that_slows_down_is_accepted_again_and_told_afresh_next_time()
    {
        var allowance = new InputAllowance(capacity: 2, perSecond: 1, now: 0, Frequency);
        allowance.Take(2, 0).Should().Be(InputVerdict.Accepted);
        allowance.Take(1, 0).Should().Be(InputVerdict.Refused);

        allowance.Take(2, 3 * Frequency).Should().Be(InputVerdict.Accepted);
        allowance.Take(1, 3 * Frequency).Should().Be(InputVerdict.Refused);
    }
}
