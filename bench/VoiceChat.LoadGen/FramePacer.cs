using System.Collections.Concurrent;
using System.Diagnostics;

namespace VoiceChat.LoadGen;

/// <summary>
/// Plays every session's microphone from one thread: a queue ordered by when each session's next
/// frame falls due, woken about once a millisecond. One timer per session would put a timer callback
/// and a thread-pool hop in front of every frame (25,000 a second at 1000 sessions of 40 ms); here a
/// frame costs its send. Measured, the generator's CPU stayed within the run-to-run noise either
/// way: most of it is the sockets' work, which no pacing saves.
/// </summary>
internal sealed class FramePacer : IDisposable
{
    private readonly ConcurrentQueue<(LoadSession Session, long Due)> _added = new();
    private readonly PriorityQueue<LoadSession, long> _due = new();
    private readonly Thread _thread;
    private volatile bool _stopped;

    public FramePacer()
    {
        _thread = new Thread(Run) { IsBackground = true, Name = "microphones" };
        _thread.Start();
    }

    /// <summary>Starts pacing <paramref name="session"/>; its first frame falls due at <paramref name="firstDue"/> (a <see cref="Stopwatch"/> timestamp).</summary>
    public void Add(LoadSession session, long firstDue) => _added.Enqueue((session, firstDue));

    public void Dispose()
    {
        _stopped = true;
        _thread.Join();
    }

    private void Run()
    {
        while (!_stopped)
        {
            while (_added.TryDequeue(out var added))
            {
                _due.Enqueue(added.Session, added.Due);
            }

            var now = Stopwatch.GetTimestamp();
            while (_due.TryPeek(out var session, out var due) && due <= now)
            {
                _due.Dequeue();
                var next = session.SendDueFrames(now);
                if (next >= 0)
                {
                    _due.Enqueue(session, next);
                }

                now = Stopwatch.GetTimestamp();
            }

            // About 1.1 ms on Linux: frames are stamped when sent, so the wake-up's slack is not
            // counted as latency, and the stream keeps real time on average.
            Thread.Sleep(1);
        }
    }
}
