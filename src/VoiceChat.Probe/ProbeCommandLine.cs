using System.Globalization;

namespace VoiceChat.Probe;

/// <summary>The command line of <c>voicechat-probe</c>, parsed by hand to keep the tool dependency-free.</summary>
internal sealed class ProbeCommandLine
{
    public const string Help = $"""
        voicechat-probe: checks a VoiceChat server end to end with one voice turn over its WebSocket endpoint.

        Usage: voicechat-probe <url> [options]

          <url>                   The voice endpoint: ws://host:port/voice or wss://host/voice
                                  (http:// and https:// are taken as ws:// and wss://).
          --token <token>         Bearer token for the upgrade request (Authorization header).
                                  Default: the {ProbeOptions.TokenVariable} environment variable, which keeps it out of shell history.
          --user-id <id>          user_id in start_session (default {ProbeOptions.DefaultUserId}; left out with a token,
                                  since the server takes the user from the token).
          --wav <file>            Say this WAV file (16-bit PCM) instead of 2 s of generated speech.
          --text <prompt>         Send a typed turn instead of audio (the model still answers with audio).
          --header <Name: value>  An extra request header (repeatable), e.g. a platform's own authorization header.
          --origin <origin>       The Origin header, for servers that check it.
          --timeout <seconds>     Bound on the whole run (default 30).
          --json                  Print one JSON object instead of the report.
          --help                  Show this help.

        Exit codes: 0 a full voice turn completed; 1 it did not (the report says why);
                    2 bad command line; 3 authentication or authorization refused (HTTP 401/403).
        """;

    public bool ShowHelp { get; private set; }

    public bool Json { get; private set; }

    private string? Url { get; set; }

    private string? Token { get; set; }

    private string? UserId { get; set; }

    private string? Wav { get; set; }

    private string? Text { get; set; }

    private string? Origin { get; set; }

    private List<KeyValuePair<string, string>> Headers { get; } = [];

    private double TimeoutSeconds { get; set; } = 30;

    /// <exception cref="FormatException">An unknown option, or a missing or invalid value.</exception>
    public static ProbeCommandLine Parse(string[] args)
    {
        var command = new ProbeCommandLine();
        for (var i = 0; i < args.Length; i++)
        {
            var arg = args[i];
            string Value() => i + 1 < args.Length ? args[++i] : throw new FormatException($"{arg} needs a value.");
            switch (arg)
            {
                case "--help" or "-h" or "-?":
                    command.ShowHelp = true;
                    break;
                case "--json":
                    command.Json = true;
                    break;
                case "--token":
                    command.Token = Value();
                    break;
                case "--user-id":
                    command.UserId = Value();
                    break;
                case "--wav":
                    command.Wav = Value();
                    break;
                case "--text":
                    command.Text = Value();
                    break;
                case "--origin":
                    command.Origin = Value();
                    break;
                case "--header":
                    var header = Value();
                    var colon = header.IndexOf(':', StringComparison.Ordinal);
                    if (colon <= 0)
                    {
                        throw new FormatException("--header must be 'Name: value'.");
                    }

                    command.Headers.Add(new(header[..colon].Trim(), header[(colon + 1)..].Trim()));
                    break;
                case "--timeout":
                    var seconds = Value();
                    command.TimeoutSeconds = double.TryParse(seconds, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) && value is > 0 and <= 3600
                        ? value
                        : throw new FormatException("--timeout must be a number of seconds from 0 to 3600.");
                    break;
                case var _ when arg.StartsWith('-'):
                    throw new FormatException($"unknown option '{arg}'.");
                default:
                    command.Url = command.Url is null ? arg : throw new FormatException($"one URL only ('{command.Url}', then '{arg}').");
                    break;
            }
        }

        if (command.Wav is not null && command.Text is not null)
        {
            throw new FormatException("--wav and --text are two kinds of turn: give one.");
        }

        return command;
    }

    /// <param name="environmentToken">The token variable's value, when set.</param>
    /// <exception cref="FormatException">No URL, or a URL that is not ws(s):// or http(s)://; a WAV file that cannot be used.</exception>
    public ProbeOptions CreateOptions(string? environmentToken)
    {
        if (Url is null)
        {
            throw new FormatException("the voice endpoint's URL is missing (for example wss://my-service.run.app/voice).");
        }

        var token = new[] { Token, environmentToken }.FirstOrDefault(t => !string.IsNullOrEmpty(t));
        return new ProbeOptions
        {
            Url = ParseUrl(Url),
            Token = token,
            UserId = UserId ?? (token is null ? ProbeOptions.DefaultUserId : null),
            Origin = Origin,
            Headers = Headers,
            Timeout = TimeSpan.FromSeconds(TimeoutSeconds),
            Utterance = Text is not null ? Utterance.Typed(Text)
                : Wav is not null ? Utterance.FromWav(Wav, ReadWav(Wav))
                : Utterance.Generated(TimeSpan.FromSeconds(2)),
        };
    }

    private static Uri ParseUrl(string value)
    {
        if (!Uri.TryCreate(value, UriKind.Absolute, out var url))
        {
            throw new FormatException($"'{value}' is not an absolute URL (for example wss://my-service.run.app/voice).");
        }

        var scheme = url.Scheme switch
        {
            "ws" or "http" => "ws",
            "wss" or "https" => "wss",
            _ => throw new FormatException($"'{value}' is not a ws://, wss://, http:// or https:// URL."),
        };
        return new UriBuilder(url) { Scheme = scheme, Port = url.IsDefaultPort ? -1 : url.Port }.Uri;
    }

    private static byte[] ReadWav(string path)
    {
        try
        {
            return File.ReadAllBytes(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new FormatException($"cannot read {path}: {ex.Message}");
        }
    }
}
