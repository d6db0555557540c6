using System.Diagnostics;
using System.Globalization;

namespace VoiceChat.LoadGen;

/// <summary>
/// Runs one load: ramp up, steady state (measured), stop the microphones, drain the echoes, end
/// every session the protocol's way, report. Every phase has a bound, so the run always stops.
/// </summary>
internal sealed class LoadRunner
{
    private readonly LoadOptions _options;
    private readonly RunStats _stats = new();
    private readonly LoadSession[] _sessions;
    private string _phase = "ramp";
    private string? _loadAverage;
    private long _phaseStarted = Stopwatch.GetTimestamp();

    public LoadRunner(LoadOptions options)
    {
        _options = options;
        _sessions = new LoadSession[options.Sessions];
        for (var i = 0; i < _sessions.Length; i++)
        {
            _sessions[i] = options.Protocol == TargetProtocol.Gemini
                ? new GeminiSession(i, options, _stats)
                : new RelaySession(i, options, _stats);
        }
    }

    public async Task<LoadResult> RunAsync(CancellationToken cancellationToken)
    {
        var self = Environment.ProcessId;
        var serverBaseline = ProcessSampler.Sample(_options.ServerPid);
        _loadAverage = File.Exists("/proc/loadavg") ? (await File.ReadAllTextAsync("/proc/loadavg", cancellationToken)).Trim() : null;
        using var progressStop = new CancellationTokenSource();
        using var pacer = new FramePacer();
        var progress = _options.Quiet ? Task.CompletedTask : ReportProgressAsync(progressStop.Token);

        try
        {
            // Ramp: session i starts at i / rate seconds.
            var starts = new Task[_sessions.Length];
            var rampBegin = Stopwatch.GetTimestamp();
            for (var i = 0; i < _sessions.Length; i++)
            {
                var due = TimeSpan.FromSeconds(i / _options.RampPerSecond) - Stopwatch.GetElapsedTime(rampBegin);
                if (due > TimeSpan.FromMilliseconds(1))
                {
                    await Task.Delay(due, cancellationToken);
                }

                var session = _sessions[i];
                starts[i] = Task.Run(() => session.StartAsync(pacer, cancellationToken), CancellationToken.None);
            }

            await Task.WhenAll(starts);

            if (_options.Settle > TimeSpan.Zero)
            {
                SetPhase("settle");
                await Task.Delay(_options.Settle, cancellationToken);
            }

            // Steady state.
            SetPhase("steady");
            var sentBefore = Sum(s => s.Sent);
            var receivedBefore = Sum(s => s.Received);
            var core = CoreSampler.PinnedCore(_options.ServerPid);
            var coreBefore = CoreSampler.Sample(core);
            var serverBefore = ProcessSampler.Sample(_options.ServerPid);
            var selfBefore = ProcessSampler.Sample(self);
            var streamingAtStart = _sessions.Count(s => s.State == SessionState.Streaming);
            _stats.Measuring = true;
            var resumes = _options.ResumeCuts > 0 ? CutAndResumeAsync(cancellationToken) : Task.Delay(_options.Duration, cancellationToken);
            await resumes;
            _stats.Measuring = false;
            var serverAfter = ProcessSampler.Sample(_options.ServerPid);
            var selfAfter = ProcessSampler.Sample(self);
            var coreAfter = CoreSampler.Sample(core);
            var steadySeconds = Stopwatch.GetElapsedTime(serverBefore.Timestamp, serverAfter.Timestamp).TotalSeconds;
            var sentDuring = Sum(s => s.Sent) - sentBefore;
            var receivedDuring = Sum(s => s.Received) - receivedBefore;

            // Stop the microphones, then wait for the last echoes.
            SetPhase("drain");
            await Task.WhenAll(_sessions.Select(s => s.StopSendingAsync())).WaitAsync(_options.EndTimeout, cancellationToken);
            var drainBegin = Stopwatch.GetTimestamp();
            while (Stopwatch.GetElapsedTime(drainBegin) < _options.DrainTimeout
                && _sessions.Any(s => s.State == SessionState.Streaming && s.Received < s.Sent))
            {
                await Task.Delay(20, cancellationToken);
            }

            // End every session and wait for the server's close.
            SetPhase("end");
            await Task.WhenAll(_sessions.Select(s => s.EndAsync()));

            var coreUsage = (Core: core, Before: coreBefore, After: coreAfter);
            return Summarise(serverBaseline, serverBefore, serverAfter, selfBefore, selfAfter, coreUsage, steadySeconds, sentDuring, receivedDuring, streamingAtStart);
        }
        finally
        {
            await progressStop.CancelAsync();
            await progress;
            foreach (var session in _sessions)
            {
                session.Dispose();
            }
        }
    }

    /// <summary>
    /// Resume mode's steady state: each session cuts and resumes <see cref="LoadOptions.ResumeCuts"/>
    /// times, the cuts of all sessions spread evenly over the steady state (session i's k-th cut at
    /// (k + (i + 0.5) / N) / K of it), then waits for the last resumes to finish (bounded).
    /// </summary>
    private async Task CutAndResumeAsync(CancellationToken cancellationToken)
    {
        var begin = Stopwatch.GetTimestamp();
        var cuts = _options.ResumeCuts;
        var slot = _options.Duration / cuts;
        var resuming = new List<Task>(_sessions.Length * cuts);
        for (var k = 0; k < cuts; k++)
        {
            for (var i = 0; i < _sessions.Length; i++)
            {
                var due = (slot * k) + (slot * ((i + 0.5) / _sessions.Length)) - Stopwatch.GetElapsedTime(begin);
                if (due > TimeSpan.FromMilliseconds(1))
                {
                    await Task.Delay(due, cancellationToken);
                }

                var session = _sessions[i];
                resuming.Add(Task.Run(() => session.CutAndResumeAsync(cancellationToken), CancellationToken.None));
            }
        }

        var rest = _options.Duration - Stopwatch.GetElapsedTime(begin);
        if (rest > TimeSpan.Zero)
        {
            await Task.Delay(rest, cancellationToken);
        }

        await Task.WhenAll(resuming).WaitAsync(_options.ConnectTimeout * 2, cancellationToken);
    }

    private LoadResult Summarise(
        ProcessSample serverBaseline,
        ProcessSample serverBefore,
        ProcessSample serverAfter,
        ProcessSample selfBefore,
        ProcessSample selfAfter,
        (int Core, CoreSample Before, CoreSample After) core,
        double steadySeconds,
        long sentDuring,
        long receivedDuring,
        int streamingAtStart)
    {
        var failed = _sessions.Count(s => s.State == SessionState.Failed);
        var established = _sessions.Length - failed;
        var dropped = _sessions.Count(s => s.State == SessionState.Dropped);
        var endedCleanly = _sessions.Count(s => s.EndedCleanly);
        var sent = Sum(s => s.Sent);
        var received = Sum(s => s.Received);
        var lost = Math.Max(0, sent - received);
        var framesPerSecond = 1000.0 / _options.FrameMilliseconds;
        var expected = streamingAtStart * steadySeconds * framesPerSecond;

        ServerUsage? server = null;
        if (serverBefore.Valid && serverAfter.Valid)
        {
            var cpu = serverAfter.CpuSeconds - serverBefore.CpuSeconds;
            var sessionMinutes = Math.Max(1, streamingAtStart) * steadySeconds / 60.0;
            server = new ServerUsage(
                _options.ServerPid,
                Math.Round(cpu, 3),
                Math.Round(100 * cpu / steadySeconds, 1),
                Math.Round(cpu / sessionMinutes, 5),
                serverBaseline.RssBytes,
                serverAfter.RssBytes,
                serverAfter.PeakRssBytes,
                Math.Round((serverAfter.RssBytes - serverBaseline.RssBytes) / 1024.0 / Math.Max(1, streamingAtStart), 1),
                serverAfter.Threads);
            var coreTicks = core.After.Total - core.Before.Total;
            if (core.Before.Valid && core.After.Valid && coreTicks > 0)
            {
                server = server with
                {
                    Core = core.Core,
                    CoreBusyPercent = Math.Round(100.0 * (core.After.Busy - core.Before.Busy) / coreTicks, 1),
                    CoreSoftIrqPercent = Math.Round(100.0 * (core.After.SoftIrq - core.Before.SoftIrq) / coreTicks, 1),
                };
            }
        }

        var allConnected = established == _sessions.Length && dropped == 0;
        ResumeSummary? resume = null;
        var resumedCleanly = true;
        if (_options.ResumeCuts > 0)
        {
            resume = new ResumeSummary(
                _options.ResumeCuts,
                _stats.Cuts,
                _stats.Resumed,
                _stats.ResumesWithMissed,
                LatencySummary.From(_stats.ResumeToStarted),
                LatencySummary.From(_stats.ResumeToFirstMissed),
                _sessions.Sum(s => s.Corrupt));
            resumedCleanly = _stats.Cuts == (long)_sessions.Length * _options.ResumeCuts
                && _stats.Resumed == _stats.Cuts
                && resume.FramesCorrupt == 0
                && _sessions.Sum(s => s.Skipped) == 0
                && _sessions.Sum(s => s.OutOfOrder) == 0;
        }

        return new LoadResult
        {
            Label = _options.Label,
            Protocol = _options.Protocol == TargetProtocol.Gemini ? "gemini-direct" : "relay-v1",
            Url = _options.Url.ToString(),
            SessionsRequested = _sessions.Length,
            FrameMs = _options.FrameMilliseconds,
            RampPerSecond = _options.RampPerSecond,
            SteadySeconds = Math.Round(steadySeconds, 2),
            SessionsEstablished = established,
            SessionsFailed = failed,
            SessionsDropped = dropped,
            SessionsEndedCleanly = endedCleanly,
            AllConnectedThroughout = allConnected,
            ErrorsByCode = new SortedDictionary<string, int>(_stats.Errors, StringComparer.Ordinal),
            FailuresByReason = new SortedDictionary<string, int>(_stats.Failures, StringComparer.Ordinal),
            TimeToStartMs = LatencySummary.From(_stats.TimeToStart),
            RoundTripMs = LatencySummary.From(_stats.RoundTrip),
            FramesSent = sent,
            FramesReceived = received,
            FramesLost = lost,
            FramesOutOfOrder = _sessions.Sum(s => s.OutOfOrder),
            FramesSkipped = _sessions.Sum(s => s.Skipped),
            Counting = _options.Counting ? new CountingSummary(_options.AckEvery) : null,
            Resume = resume,
            UnmarkedMessages = _sessions.Sum(s => s.Unmarked),
            SteadyFramesSentPerSecond = Math.Round(sentDuring / steadySeconds, 1),
            SteadyFramesReceivedPerSecond = Math.Round(receivedDuring / steadySeconds, 1),
            SteadyAudioMiBPerSecondEachWay = Math.Round(sentDuring * (double)_options.FrameBytes / steadySeconds / 1048576.0, 3),
            RealTimeFactor = expected == 0 ? 0 : Math.Round(sentDuring / expected, 4),
            Server = server,
            LoadGenCpuPercentOfOneCore = selfBefore.Valid && selfAfter.Valid ? Math.Round(100 * (selfAfter.CpuSeconds - selfBefore.CpuSeconds) / steadySeconds, 1) : 0,
            Passed = allConnected && lost == 0 && endedCleanly == _sessions.Length && resumedCleanly,
            LoadAverageAtStart = _loadAverage,
        };
    }

    private long Sum(Func<LoadSession, long> value)
    {
        long total = 0;
        foreach (var session in _sessions)
        {
            total += value(session);
        }

        return total;
    }

    private void SetPhase(string phase)
    {
        _phase = phase;
        _phaseStarted = Stopwatch.GetTimestamp();
    }

    private async Task ReportProgressAsync(CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1));
        long lastSent = 0, lastReceived = 0;
        var lastServer = ProcessSampler.Sample(_options.ServerPid);
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken))
            {
                int streaming = 0, failed = 0, dropped = 0;
                foreach (var s in _sessions)
                {
                    switch (s.State)
                    {
                        case SessionState.Streaming: streaming++; break;
                        case SessionState.Failed: failed++; break;
                        case SessionState.Dropped: dropped++; break;
                    }
                }

                var sent = Sum(s => s.Sent);
                var received = Sum(s => s.Received);
                var server = ProcessSampler.Sample(_options.ServerPid);
                var serverCpu = server.Valid && lastServer.Valid
                    ? 100 * (server.CpuSeconds - lastServer.CpuSeconds) / Stopwatch.GetElapsedTime(lastServer.Timestamp, server.Timestamp).TotalSeconds
                    : double.NaN;
                var rtt = _stats.RoundTrip;
                var line = string.Create(CultureInfo.InvariantCulture,
                    $"[{_options.Label}] {_phase,-6} {Stopwatch.GetElapsedTime(_phaseStarted).TotalSeconds,5:0}s  streaming {streaming}/{_sessions.Length} failed {failed} dropped {dropped}  " +
                    $"tx {sent - lastSent}/s rx {received - lastReceived}/s in-flight {sent - received}  " +
                    $"rtt p50 {rtt.ValueAt(0.5) / 1000.0:0.00} p99 {rtt.ValueAt(0.99) / 1000.0:0.00} ms  server cpu {serverCpu:0}% rss {server.RssBytes / 1048576.0:0} MiB");
                await Console.Error.WriteLineAsync(line);
                lastSent = sent;
                lastReceived = received;
                lastServer = server;
            }
        }
        catch (OperationCanceledException)
        {
        }
    }
}
