using System.Globalization;
using System.Text;
using System.Text.Json.Serialization;

namespace VoiceChat.LoadGen;

/// <summary>Latency quantiles in milliseconds.</summary>
internal sealed record LatencySummary(long Count, double P50, double P90, double P95, double P99, double P999, double Max, double Mean)
{
    public static LatencySummary From(LatencyHistogram histogram) => new(
        histogram.Count,
        Ms(histogram.ValueAt(0.50)),
        Ms(histogram.ValueAt(0.90)),
        Ms(histogram.ValueAt(0.95)),
        Ms(histogram.ValueAt(0.99)),
        Ms(histogram.ValueAt(0.999)),
        Ms(histogram.Max),
        Math.Round(histogram.MeanMicroseconds / 1000.0, 3));

    private static double Ms(long microseconds) => Math.Round(microseconds / 1000.0, 3);
}

/// <summary>The load was a counting client's: <c>"received":0</c> in <c>start_session</c>, an <c>ack</c> every <paramref name="AckEvery"/> numbered server messages.</summary>
internal sealed record CountingSummary(int AckEvery);

/// <summary>
/// Resume mode: cuts made (of <paramref name="CutsPerSession"/> per session), resumes answered with
/// <c>resumed:true</c>, of them those where the client had missed frames, the time from reconnect start
/// to <c>session_started</c> and to the first missed frame, and echoes whose audio differed from what was sent.
/// </summary>
internal sealed record ResumeSummary(
    int CutsPerSession,
    long Cuts,
    long Resumed,
    long ResumesWithMissed,
    LatencySummary ToSessionStartedMs,
    LatencySummary ToFirstMissedFrameMs,
    long FramesCorrupt);

/// <summary>What the server process used during the steady state; with <see cref="Core"/> set, how busy the one core it is pinned to was.</summary>
internal sealed record ServerUsage(
    int Pid,
    double CpuSeconds,
    double CpuPercentOfOneCore,
    double CpuSecondsPerSessionMinute,
    long RssBaselineBytes,
    long RssSteadyBytes,
    long PeakRssBytes,
    double RssPerSessionKiB,
    int Threads,
    int Core = -1,
    double CoreBusyPercent = 0,
    double CoreSoftIrqPercent = 0);

/// <summary>The result of one load run, written as JSON and markdown.</summary>
internal sealed record LoadResult
{
    public required string Label { get; init; }

    public required string Protocol { get; init; }

    public required string Url { get; init; }

    public required int SessionsRequested { get; init; }

    public required int FrameMs { get; init; }

    public required double RampPerSecond { get; init; }

    public required double SteadySeconds { get; init; }

    public required int SessionsEstablished { get; init; }

    public required int SessionsFailed { get; init; }

    public required int SessionsDropped { get; init; }

    public required int SessionsEndedCleanly { get; init; }

    public required bool AllConnectedThroughout { get; init; }

    public required IReadOnlyDictionary<string, int> ErrorsByCode { get; init; }

    public required IReadOnlyDictionary<string, int> FailuresByReason { get; init; }

    public required LatencySummary TimeToStartMs { get; init; }

    public required LatencySummary RoundTripMs { get; init; }

    public required long FramesSent { get; init; }

    public required long FramesReceived { get; init; }

    public required long FramesLost { get; init; }

    public required long FramesOutOfOrder { get; init; }

    /// <summary>Frames whose echo never came though a later frame's did: audio lost in between.</summary>
    public required long FramesSkipped { get; init; }

    public required long UnmarkedMessages { get; init; }

    public CountingSummary? Counting { get; init; }

    public ResumeSummary? Resume { get; init; }

    public required double SteadyFramesSentPerSecond { get; init; }

    public required double SteadyFramesReceivedPerSecond { get; init; }

    public required double SteadyAudioMiBPerSecondEachWay { get; init; }

    /// <summary>Frames the steady state should have carried in real time: sessions × seconds × frames per second.</summary>
    public required double RealTimeFactor { get; init; }

    public ServerUsage? Server { get; init; }

    public required double LoadGenCpuPercentOfOneCore { get; init; }

    public required bool Passed { get; init; }

    /// <summary>The machine's /proc/loadavg when the run began: other work on the machine skews every number.</summary>
    public string? LoadAverageAtStart { get; init; }

    public string ToMarkdown()
    {
        var c = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        sb.AppendLine(c, $"### Load run `{Label}`");
        sb.AppendLine();
        sb.AppendLine(c, $"{Protocol} at `{Url}`: {SessionsRequested} sessions, {FrameMs} ms frames, ramp {RampPerSecond}/s, {SteadySeconds:0.#} s steady state.");
        sb.AppendLine();
        sb.AppendLine("| measure | value |");
        sb.AppendLine("|---|---|");
        sb.AppendLine(c, $"| sessions established / failed / dropped | {SessionsEstablished} / {SessionsFailed} / {SessionsDropped} |");
        sb.AppendLine(c, $"| sessions ended cleanly | {SessionsEndedCleanly} |");
        sb.AppendLine(c, $"| time to start p50 / p99 (ms) | {TimeToStartMs.P50} / {TimeToStartMs.P99} |");
        sb.AppendLine(c, $"| frame round trip p50 / p90 / p99 / max (ms) | {RoundTripMs.P50} / {RoundTripMs.P90} / {RoundTripMs.P99} / {RoundTripMs.Max} |");
        sb.AppendLine(c, $"| frames sent / received / lost | {FramesSent} / {FramesReceived} / {FramesLost} |");
        sb.AppendLine(c, $"| steady frames/s sent / received | {SteadyFramesSentPerSecond:0} / {SteadyFramesReceivedPerSecond:0} (real-time factor {RealTimeFactor:0.000}) |");
        sb.AppendLine(c, $"| audio MiB/s each way | {SteadyAudioMiBPerSecondEachWay:0.00} |");
        if (Server is { } s)
        {
            sb.AppendLine(c, $"| server CPU (% of one core) | {s.CpuPercentOfOneCore:0.0} |");
            if (s.Core >= 0)
            {
                sb.AppendLine(c, $"| core {s.Core} busy (% of its time; softirq part) | {s.CoreBusyPercent:0.0} ({s.CoreSoftIrqPercent:0.0}) |");
            }

            sb.AppendLine(c, $"| server CPU s per session-minute | {s.CpuSecondsPerSessionMinute:0.0000} |");
            sb.AppendLine(c, $"| server RSS steady / per session | {s.RssSteadyBytes / 1048576.0:0.0} MiB / {s.RssPerSessionKiB:0.0} KiB |");
        }

        sb.AppendLine(c, $"| load generator CPU (% of one core) | {LoadGenCpuPercentOfOneCore:0.0} |");
        sb.AppendLine(c, $"| load average at start | {LoadAverageAtStart} |");
        if (Counting is { } counting)
        {
            sb.AppendLine(c, $"| counting client | ack every {counting.AckEvery} numbered messages |");
        }

        if (Resume is { } r)
        {
            sb.AppendLine(c, $"| resume: cuts / resumed / with missed frames | {r.Cuts} / {r.Resumed} / {r.ResumesWithMissed} |");
            sb.AppendLine(c, $"| resume: to session_started p50 / p95 / p99 / max (ms) | {r.ToSessionStartedMs.P50} / {r.ToSessionStartedMs.P95} / {r.ToSessionStartedMs.P99} / {r.ToSessionStartedMs.Max} |");
            sb.AppendLine(c, $"| resume: to first missed frame p50 / p95 / p99 / max (ms) | {r.ToFirstMissedFrameMs.P50} / {r.ToFirstMissedFrameMs.P95} / {r.ToFirstMissedFrameMs.P99} / {r.ToFirstMissedFrameMs.Max} |");
            sb.AppendLine(c, $"| frames repeated or reordered / skipped / corrupt | {FramesOutOfOrder} / {FramesSkipped} / {r.FramesCorrupt} |");
        }

        if (ErrorsByCode.Count > 0)
        {
            sb.AppendLine(c, $"| server errors by code | {string.Join(", ", ErrorsByCode.Select(e => $"{e.Key}: {e.Value}"))} |");
        }

        if (FailuresByReason.Count > 0)
        {
            sb.AppendLine(c, $"| failures by reason | {string.Join(", ", FailuresByReason.Select(e => $"{e.Key}: {e.Value}"))} |");
        }

        sb.AppendLine(c, $"| passed (all connected throughout, none lost, all ended cleanly) | {(Passed ? "yes" : "no")} |");
        return sb.ToString();
    }
}

[JsonSourceGenerationOptions(WriteIndented = true, PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(LoadResult))]
internal sealed partial class LoadResultJsonContext : JsonSerializerContext;
