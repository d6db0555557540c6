using System.Globalization;
using System.Text.Json;
using VoiceChat.Testing;

namespace VoiceChat.Emulator;

/// <summary>The command line of <c>voicechat-emulator</c>, parsed by hand to keep the tool dependency-free.</summary>
internal sealed class EmulatorCommandLine
{
    public const string Help = """
        voicechat-emulator: a local Gemini Live API (BidiGenerateContent) server for testing voice clients.

        Usage: voicechat-emulator [options]

          --host <address>          Address to listen on (default 127.0.0.1; use 0.0.0.0 to accept other machines).
          --port <port>             Port to listen on (default 9871; 0 picks a free one).
          --scenario <name>         conversation (default)  answers each utterance with its own audio at 24 kHz
                                    echo                    answers every audio chunk at once with the same bytes
                                    tools                   every user turn calls a tool (see --tool, --tool-args)
                                    goaway                  sends goAway after --go-away-after (default 10 s), then closes with 1011
                                    faults                  closes each connection mid-reply with --fault (default internal-error)
                                    slow-setup              delays setupComplete by --setup-delay (default 3000 ms)
                                    no-setup-complete       never sends setupComplete
          --latency <ms>            Extra delay before each reply (default 0).
          --api-key <key>           Accept only this Developer API key (default: any non-empty key).
          --bearer-token <token>    Accept only this Vertex AI bearer token (default: any non-empty token).
          --go-away-after <seconds> Send goAway this long after setupComplete (default 550, or 10 with --scenario goaway).
          --go-away-time-left <s>   The timeLeft announced in goAway; the close follows after it (default 50, or 5 with goaway).
          --tool <name>             Function the tools scenario calls (default: the first one the client declares).
          --tool-args <json>        Its arguments, a JSON object (default {}).
          --tool-when <text>        Only call it when the user's text or transcript contains this.
          --fault <name>            internal-error, unavailable, deadline, quota, invalid-argument, model-not-found,
                                    location, auth, key-expired, session-not-found, drop.
          --setup-delay <ms>        Delay before setupComplete (any scenario).
          --pong-delay <ms>         Delay pongs to WebSocket pings (any scenario).
          --silence <ms>            Silence that ends an utterance (default 500).
          --text-frames             Send JSON in text frames instead of binary frames.
          --verbose                 Log every connection.
          --help                    Show this help.
        """;

    public bool ShowHelp { get; private set; }

    public bool Verbose { get; private set; }

    public string Scenario { get; private set; } = "conversation";

    private string Host { get; set; } = "127.0.0.1";

    private int Port { get; set; } = 9871;

    private int? LatencyMs { get; set; }

    private string? ApiKey { get; set; }

    private string? BearerToken { get; set; }

    private double? GoAwayAfterSeconds { get; set; }

    private double? GoAwayTimeLeftSeconds { get; set; }

    private string? Tool { get; set; }

    private string ToolArgs { get; set; } = "{}";

    private string? ToolWhen { get; set; }

    private EmulatorFault Fault { get; set; } = EmulatorFault.InternalError;

    private int? SetupDelayMs { get; set; }

    private int? PongDelayMs { get; set; }

    private int? SilenceMs { get; set; }

    private bool TextFrames { get; set; }

    public static EmulatorCommandLine Parse(string[] args)
    {
        var command = new EmulatorCommandLine();
        for (var i = 0; i < args.Length; i++)
        {
            var arg = args[i];
            string Value() => i + 1 < args.Length ? args[++i] : throw new FormatException($"{arg} needs a value.");
            switch (arg)
            {
                case "--help" or "-h" or "-?":
                    command.ShowHelp = true;
                    break;
                case "--verbose":
                    command.Verbose = true;
                    break;
                case "--text-frames":
                    command.TextFrames = true;
                    break;
                case "--host":
                    command.Host = Value();
                    break;
                case "--port":
                    command.Port = Int(arg, Value(), 0, 65535);
                    break;
                case "--scenario":
                    command.Scenario = Value().ToLowerInvariant();
                    if (command.Scenario is not ("conversation" or "echo" or "tools" or "goaway" or "faults" or "slow-setup" or "no-setup-complete"))
                    {
                        throw new FormatException($"unknown scenario '{command.Scenario}'.");
                    }

                    break;
                case "--latency":
                    command.LatencyMs = Int(arg, Value(), 0, 600_000);
                    break;
                case "--api-key":
                    command.ApiKey = Value();
                    break;
                case "--bearer-token":
                    command.BearerToken = Value();
                    break;
                case "--go-away-after":
                    command.GoAwayAfterSeconds = Seconds(arg, Value());
                    break;
                case "--go-away-time-left":
                    command.GoAwayTimeLeftSeconds = Seconds(arg, Value());
                    break;
                case "--tool":
                    command.Tool = Value();
                    break;
                case "--tool-args":
                    command.ToolArgs = Value();
                    try
                    {
                        using var document = JsonDocument.Parse(command.ToolArgs);
                        if (document.RootElement.ValueKind != JsonValueKind.Object)
                        {
                            throw new FormatException("--tool-args must be a JSON object.");
                        }
                    }
                    catch (JsonException)
                    {
                        throw new FormatException("--tool-args must be a JSON object.");
                    }

                    break;
                case "--tool-when":
                    command.ToolWhen = Value();
                    break;
                case "--fault":
                    command.Fault = ParseFault(Value());
                    break;
                case "--setup-delay":
                    command.SetupDelayMs = Int(arg, Value(), 0, 600_000);
                    break;
                case "--pong-delay":
                    command.PongDelayMs = Int(arg, Value(), 0, 600_000);
                    break;
                case "--silence":
                    command.SilenceMs = Int(arg, Value(), 10, 60_000);
                    break;
                default:
                    throw new FormatException($"unknown option '{arg}'.");
            }
        }

        return command;
    }

    public LiveApiEmulatorOptions CreateOptions()
    {
        var options = new LiveApiEmulatorOptions
        {
            Host = Host,
            Port = Port,
            ExpectedApiKey = ApiKey,
            ExpectedBearerToken = BearerToken,
            SendTextFrames = TextFrames,
        };

        switch (Scenario)
        {
            case "echo":
                options.EchoAudio = true;
                break;
            case "tools":
                options.ToolCallRules.Add(new EmulatorToolCallRule { ToolName = Tool, ArgumentsJson = ToolArgs, WhenTextContains = ToolWhen });
                break;
            case "goaway":
                options.GoAwayAfter = TimeSpan.FromSeconds(10);
                options.GoAwayTimeLeft = TimeSpan.FromSeconds(5);
                break;
            case "faults":
                options.MidTurnFault = Fault;
                break;
            case "slow-setup":
                options.SetupCompleteDelay = TimeSpan.FromMilliseconds(3000);
                break;
            case "no-setup-complete":
                options.SuppressSetupComplete = true;
                break;
        }

        if (LatencyMs is { } latency)
        {
            options.ReplyLatency = TimeSpan.FromMilliseconds(latency);
        }

        if (GoAwayAfterSeconds is { } after)
        {
            options.GoAwayAfter = TimeSpan.FromSeconds(after);
        }

        if (GoAwayTimeLeftSeconds is { } left)
        {
            options.GoAwayTimeLeft = TimeSpan.FromSeconds(left);
        }

        if (SetupDelayMs is { } setupDelay)
        {
            options.SetupCompleteDelay = TimeSpan.FromMilliseconds(setupDelay);
        }

        if (PongDelayMs is { } pongDelay)
        {
            options.PongDelay = TimeSpan.FromMilliseconds(pongDelay);
        }

        if (SilenceMs is { } silence)
        {
            options.SilenceDuration = TimeSpan.FromMilliseconds(silence);
        }

        return options;
    }

    private static EmulatorFault ParseFault(string name) => name.ToLowerInvariant() switch
    {
        "internal-error" => EmulatorFault.InternalError,
        "unavailable" => EmulatorFault.ServiceUnavailable,
        "deadline" => EmulatorFault.DeadlineExceeded,
        "quota" => EmulatorFault.ResourceExhausted,
        "invalid-argument" => EmulatorFault.InvalidArgument,
        "model-not-found" => EmulatorFault.ModelNotFound,
        "location" => EmulatorFault.LocationNotSupported,
        "auth" => EmulatorFault.AuthenticationFailed,
        "key-expired" => EmulatorFault.ApiKeyExpired,
        "session-not-found" => EmulatorFault.SessionNotFound,
        "drop" => EmulatorFault.AbruptDrop,
        _ => throw new FormatException($"unknown fault '{name}'."),
    };

    private static int Int(string option, string value, int min, int max) =>
        int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var result) && result >= min && result <= max
            ? result
            : throw new FormatException($"{option} must be a whole number from {min} to {max}.");

    private static double Seconds(string option, string value) =>
        double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var result) && result >= 0 && result <= 86_400
            ? result
            : throw new FormatException($"{option} must be a number of seconds.");
}
