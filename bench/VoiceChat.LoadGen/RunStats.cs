using System.Collections.Concurrent;

namespace VoiceChat.LoadGen;

/// <summary>What all sessions of one run share: histograms, error counts and the measuring flag.</summary>
internal sealed class RunStats
{
    private volatile bool _measuring;
    private long _cuts;
    private long _resumed;
    private long _resumesWithMissed;

    /// <summary>Send → echo of every frame whose echo arrived during the steady state, in µs.</summary>
    public LatencyHistogram RoundTrip { get; } = new();

    /// <summary>Connect start → <c>session_started</c> (or <c>setupComplete</c>), in µs.</summary>
    public LatencyHistogram TimeToStart { get; } = new();

    /// <summary>Resume mode: reconnect start (TCP connect) → <c>session_started</c>, in µs.</summary>
    public LatencyHistogram ResumeToStarted { get; } = new();

    /// <summary>Resume mode: reconnect start → the first frame the client had missed, for resumes where it had missed any, in µs.</summary>
    public LatencyHistogram ResumeToFirstMissed { get; } = new();

    /// <summary>Resume mode: cuts made.</summary>
    public long Cuts => Interlocked.Read(ref _cuts);

    /// <summary>Resume mode: resumes answered with <c>resumed:true</c>.</summary>
    public long Resumed => Interlocked.Read(ref _resumed);

    /// <summary>Resume mode: resumes after which the client was sent frames it had missed.</summary>
    public long ResumesWithMissed => Interlocked.Read(ref _resumesWithMissed);

    /// <summary>Error codes the server sent (<c>error</c> messages), by code.</summary>
    public ConcurrentDictionary<string, int> Errors { get; } = new(StringComparer.Ordinal);

    /// <summary>Why sessions failed to start, dropped or did not end cleanly, by reason.</summary>
    public ConcurrentDictionary<string, int> Failures { get; } = new(StringComparer.Ordinal);

    public bool Measuring
    {
        get => _measuring;
        set => _measuring = value;
    }

    public void CountCut() => Interlocked.Increment(ref _cuts);

    public void CountResumed(bool missed)
    {
        Interlocked.Increment(ref _resumed);
        if (missed)
        {
            Interlocked.Increment(ref _resumesWithMissed);
        }
    }

    public void CountError(string code) => Errors.AddOrUpdate(code, 1, static (_, n) => n + 1);

    public void CountFailure(string reason) => Failures.AddOrUpdate(reason, 1, static (_, n) => n + 1);
}
