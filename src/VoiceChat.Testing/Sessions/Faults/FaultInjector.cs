using System.Net.WebSockets;
using VoiceChat.Testing.Wire;

namespace VoiceChat.Testing.Sessions.Faults;

/// <summary>
/// The failures a test asks for on one connection: Google's closes (<see cref="EmulatorFault"/>), an
/// abrupt drop, <c>goAway</c> followed by the deadline's close, and the point of a turn where a mid-turn fault strikes.
/// </summary>
internal sealed class FaultInjector(SessionLifetime lifetime, EmulatorConnection record, LiveApiEmulatorOptions options)
{
    /// <summary>Injects <paramref name="fault"/> now; <paramref name="model"/> is named in the reasons that name it.</summary>
    public async Task InjectAsync(EmulatorFault fault, string model)
    {
        if (fault == EmulatorFault.AbruptDrop)
        {
            await lifetime.DropAsync().ConfigureAwait(false);
            return;
        }

        var (status, reason) = EmulatorCloseReasons.For(fault, record.Backend, model, record.ApiVersion);
        await lifetime.CloseAsync(status!.Value, reason).ConfigureAwait(false);
    }

    /// <summary>Sends <c>goAway</c> now and closes with "Deadline expired" after <paramref name="timeLeft"/>.</summary>
    public async Task GoAwayAsync(TimeSpan timeLeft)
    {
        if (await lifetime.Sender.SendJsonAsync(timeLeft, ServerMessages.GoAway).ConfigureAwait(false))
        {
            _ = CloseLaterAsync(timeLeft);
        }
    }

    /// <summary>After <c>setupComplete</c>: schedules <see cref="LiveApiEmulatorOptions.GoAwayAfter"/>, when set.</summary>
    public void ScheduleGoAway()
    {
        if (options.GoAwayAfter is { } after)
        {
            _ = GoAwayLaterAsync(after);
        }
    }

    /// <summary>The chunk of a reply of <paramref name="chunks"/> chunks at which <see cref="LiveApiEmulatorOptions.MidTurnFault"/> strikes, or -1.</summary>
    public int MidTurnFaultChunk(int connectionTurn, int chunks) =>
        options.MidTurnFault is not null && connectionTurn == options.MidTurnFaultTurn ? chunks / 2 : -1;

    private async Task GoAwayLaterAsync(TimeSpan after)
    {
        try
        {
            await Task.Delay(after, options.TimeProvider, lifetime.Token).ConfigureAwait(false);
            await GoAwayAsync(options.GoAwayTimeLeft).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }
    }

    private async Task CloseLaterAsync(TimeSpan timeLeft)
    {
        try
        {
            await Task.Delay(timeLeft, options.TimeProvider, lifetime.Token).ConfigureAwait(false);
            await lifetime.CloseAsync(WebSocketCloseStatus.InternalServerError, EmulatorCloseReasons.DeadlineExpired).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }
    }
}
