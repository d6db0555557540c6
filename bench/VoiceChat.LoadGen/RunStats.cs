using System.Collections.Concurrent;

namespace VoiceChat.LoadGen;

/// <summary>What all sessions of one run share: histograms, error counts and the measuring flag.</summary>
internal sealed class RunStats
{
    private volatile bool _measuring;

    /// <summary>Send → echo of every frame whose echo arrived during the steady state, in µs.</summary>
    public LatencyHistogram RoundTrip { get; } = new();

    /// <summary>Connect start → <c>session_started</c> (or <c>setupComplete</c>), in µs.</summary>
    public LatencyHistogram TimeToStart { get; } = new();

    /// <summary>Error codes the server sent (<c>error</c> messages), by code.</summary>
    public ConcurrentDictionary<string, int> Errors { get; } = new(StringComparer.Ordinal);

    /// <summary>Why sessions failed to start, dropped or did not end cleanly, by reason.</summary>
    public ConcurrentDictionary<string, int> Failures { get; } = new(StringComparer.Ordinal);

    public bool Measuring
    {
        get => _measuring;
        set => _measuring = value;
    }

    public void CountError(string code) => Errors.AddOrUpdate(code, 1, static (_, n) => n + 1);

    public void CountFailure(string reason) => Failures.AddOrUpdate(reason, 1, static (_, n) => n + 1);
}
