using System.Globalization;
using System.Net;

namespace VoiceChat.LoadGen;

/// <summary>Which protocol the generated sessions speak.</summary>
internal enum TargetProtocol
{
    /// <summary>VoiceChat client protocol v1 against a relay.</summary>
    Relay,

    /// <summary>The Gemini Live wire protocol straight to the emulator: the baseline without a relay.</summary>
    Gemini,
}

/// <summary>Command-line options. Every load is bounded: see the caps.</summary>
internal sealed class LoadOptions
{
    public const int MaxSessionsCap = 8000;
    public const double MaxDurationCapSeconds = 600;
    public const double MaxRampCapPerSecond = 2000;

    public Uri Url { get; private set; } = new("ws://127.0.0.1:8080/voice");

    public TargetProtocol Protocol { get; private set; } = TargetProtocol.Relay;

    public int Sessions { get; private set; } = 100;

    /// <summary>Sessions opened per second while ramping up.</summary>
    public double RampPerSecond { get; private set; } = 250;

    /// <summary>
    /// Time every session streams after the ramp before measuring starts: the server under test
    /// finishes its start-up work (connection setup, JIT tiering) and the backlog of the ramp drains.
    /// </summary>
    public TimeSpan Settle { get; private set; } = TimeSpan.FromSeconds(5);

    /// <summary>Steady-state measurement time once every session is up.</summary>
    public TimeSpan Duration { get; private set; } = TimeSpan.FromSeconds(30);

    public int FrameMilliseconds { get; private set; } = 40;

    public int SampleRate { get; private set; } = 16000;

    /// <summary>The server process whose CPU and memory are sampled (0: none).</summary>
    public int ServerPid { get; private set; }

    public string? JsonPath { get; private set; }

    public string? MarkdownPath { get; private set; }

    public string Label { get; private set; } = "run";

    public bool Smoke { get; private set; }

    public bool Quiet { get; private set; }

    public TimeSpan ConnectTimeout { get; private set; } = TimeSpan.FromSeconds(15);

    /// <summary>How long to wait after the last frame for its echo before the rest count as lost.</summary>
    public TimeSpan DrainTimeout { get; private set; } = TimeSpan.FromSeconds(5);

    public TimeSpan EndTimeout { get; private set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Act as a counting client (<c>"received":0</c> in <c>start_session</c>, an <c>ack</c> every
    /// <see cref="AckEvery"/> numbered server messages): the server then keeps each numbered message
    /// until it is acknowledged.
    /// </summary>
    public bool Counting { get; private set; }

    /// <summary>A counting client acknowledges once this many numbered messages arrived since its last <c>ack</c>.</summary>
    public int AckEvery { get; private set; } = 5;

    /// <summary>How many times each session cuts its connection (abort, no close frame) and resumes during the steady state; implies counting.</summary>
    public int ResumeCuts { get; private set; }

    public string GeminiModel { get; private set; } = "gemini-3.8-live";

    public int FrameBytes => SampleRate / 1000 * FrameMilliseconds * 2;

    public static string Usage => """
        VoiceChat.LoadGen: N concurrent real-time voice sessions against a relay on loopback.

          --url ws://127.0.0.1:PORT/voice   relay endpoint (protocol v1); with --gemini the emulator's base (ws://127.0.0.1:PORT)
          --gemini                          speak Gemini Live directly to the emulator (baseline without a relay)
          --sessions N                      concurrent sessions (default 100, cap 8000)
          --ramp R                          sessions opened per second (default 250, cap 2000)
          --settle S                        seconds streamed after the ramp before measuring (default 5; 0..60)
          --duration S                      steady-state seconds once all sessions are up (default 30, cap 600)
          --frame-ms 20|40|100              microphone frame length (default 40; 20..100)
          --pid PID                         server process to sample (/proc/PID/stat, /proc/PID/status)
          --json FILE, --markdown FILE      result files
          --label NAME                      name of the run in the results
          --drain S                         seconds to wait for the last echoes (default 5)
          --counting                        a counting client: "received":0 in start_session, an ack every --ack-every numbered messages
          --ack-every N                     numbered server messages between acks (default 5; 1..1000), sent with the next frame
          --resume-cuts K                   each session cuts its TCP connection K times during the steady state (staggered over
                                            sessions) and resumes with its token and count; implies --counting (0..20)
          --smoke                           20 sessions x 5 s; exit non-zero unless all connected, none lost a frame, all ended cleanly
          --quiet                           no progress line
        Only loopback hosts are accepted. The run stops by itself.
        """;

    public static LoadOptions Parse(string[] args)
    {
        var options = new LoadOptions();
        bool sessionsSet = false, durationSet = false, rampSet = false, settleSet = false;
        for (var i = 0; i < args.Length; i++)
        {
            var name = args[i];
            string Value() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{name} needs a value.");
            switch (name)
            {
                case "--url": options.Url = new Uri(Value()); break;
                case "--gemini": options.Protocol = TargetProtocol.Gemini; break;
                case "--sessions": options.Sessions = int.Parse(Value(), CultureInfo.InvariantCulture); sessionsSet = true; break;
                case "--ramp": options.RampPerSecond = double.Parse(Value(), CultureInfo.InvariantCulture); rampSet = true; break;
                case "--settle": options.Settle = TimeSpan.FromSeconds(double.Parse(Value(), CultureInfo.InvariantCulture)); settleSet = true; break;
                case "--duration": options.Duration = TimeSpan.FromSeconds(double.Parse(Value(), CultureInfo.InvariantCulture)); durationSet = true; break;
                case "--frame-ms": options.FrameMilliseconds = int.Parse(Value(), CultureInfo.InvariantCulture); break;
                case "--pid": options.ServerPid = int.Parse(Value(), CultureInfo.InvariantCulture); break;
                case "--json": options.JsonPath = Value(); break;
                case "--markdown": options.MarkdownPath = Value(); break;
                case "--label": options.Label = Value(); break;
                case "--drain": options.DrainTimeout = TimeSpan.FromSeconds(double.Parse(Value(), CultureInfo.InvariantCulture)); break;
                case "--counting": options.Counting = true; break;
                case "--ack-every": options.AckEvery = int.Parse(Value(), CultureInfo.InvariantCulture); break;
                case "--resume-cuts": options.ResumeCuts = int.Parse(Value(), CultureInfo.InvariantCulture); options.Counting = true; break;
                case "--smoke": options.Smoke = true; break;
                case "--quiet": options.Quiet = true; break;
                default: throw new ArgumentException($"Unknown option '{name}'.");
            }
        }

        if (options.Smoke)
        {
            if (!sessionsSet)
            {
                options.Sessions = 20;
            }

            if (!durationSet)
            {
                options.Duration = TimeSpan.FromSeconds(5);
            }

            if (!settleSet)
            {
                options.Settle = TimeSpan.FromSeconds(1);
            }

            if (!rampSet)
            {
                options.RampPerSecond = 100;
            }
        }

        options.Validate();
        return options;
    }

    private void Validate()
    {
        if (Url.Scheme is not ("ws" or "wss"))
        {
            throw new ArgumentException("--url must be a ws:// URL.");
        }

        if (!IsLoopback(Url))
        {
            throw new ArgumentException($"Refusing non-loopback host '{Url.Host}': load is only ever sent to 127.0.0.0/8, [::1] or localhost.");
        }

        if (Sessions is < 1 or > MaxSessionsCap)
        {
            throw new ArgumentException($"--sessions must be 1..{MaxSessionsCap}.");
        }

        if (RampPerSecond is <= 0 or > MaxRampCapPerSecond)
        {
            throw new ArgumentException($"--ramp must be in (0, {MaxRampCapPerSecond}].");
        }

        if (Duration <= TimeSpan.Zero || Duration.TotalSeconds > MaxDurationCapSeconds)
        {
            throw new ArgumentException($"--duration must be in (0, {MaxDurationCapSeconds}] seconds.");
        }

        if (FrameMilliseconds is < 10 or > 100)
        {
            throw new ArgumentException("--frame-ms must be 10..100.");
        }

        if (Settle < TimeSpan.Zero || Settle > TimeSpan.FromSeconds(60))
        {
            throw new ArgumentException("--settle must be in [0, 60] seconds.");
        }

        if (AckEvery is < 1 or > 1000)
        {
            throw new ArgumentException("--ack-every must be 1..1000.");
        }

        if (ResumeCuts is < 0 or > 20)
        {
            throw new ArgumentException("--resume-cuts must be 0..20.");
        }

        if (Counting && Protocol == TargetProtocol.Gemini)
        {
            throw new ArgumentException("--counting and --resume-cuts speak the relay's protocol, not --gemini.");
        }

        if (DrainTimeout <= TimeSpan.Zero || DrainTimeout.TotalSeconds > 60)
        {
            throw new ArgumentException("--drain must be in (0, 60] seconds.");
        }
    }

    internal static bool IsLoopback(Uri url)
    {
        var host = url.Host.Trim('[', ']');
        if (string.Equals(host, "localhost", StringComparison.OrdinalIgnoreCase))
        {
            return true;
        }

        return IPAddress.TryParse(host, out var address) && IPAddress.IsLoopback(address);
    }
}
