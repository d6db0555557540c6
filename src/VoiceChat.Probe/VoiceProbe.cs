using System.Buffers;
using System.Globalization;
using System.Net;
using System.Net.Http;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Security.Authentication;
using System.Text;
using System.Text.Json;

namespace VoiceChat.Probe;

/// <summary>
/// One voice turn against a VoiceChat endpoint, as an app would do it: upgrade, <c>start_session</c>,
/// an utterance at real time followed by silence (so the model's turn detection ends the user's turn),
/// then the model's reply until <c>turn_complete</c>. Every way this can fail ends the run with a
/// message that says what to check.
/// </summary>
internal sealed class VoiceProbe(ProbeOptions options, TimeProvider? timeProvider = null)
{
    /// <summary>40 ms frames, as a phone app sends them.</summary>
    private static readonly TimeSpan FrameDuration = TimeSpan.FromMilliseconds(40);

    /// <summary>Silence after the utterance, at real time, while the reply is awaited; then the microphone goes quiet.</summary>
    private static readonly TimeSpan MaxTrailingSilence = TimeSpan.FromSeconds(10);

    private static readonly TimeSpan GoodbyeWait = TimeSpan.FromSeconds(2);

    private readonly TimeProvider _time = timeProvider ?? TimeProvider.System;
    private readonly Dictionary<string, StringBuilder> _openTranscripts = [];
    private long _utteranceEnded;

    private enum Phase
    {
        Connecting,
        Starting,
        Talking,
    }

    public async Task<ProbeResult> RunAsync(CancellationToken cancellationToken = default)
    {
        var result = new ProbeResult(options.Url) { Utterance = options.Utterance.Description };
        var started = _time.GetTimestamp();
        using var bound = new CancellationTokenSource(options.Timeout, _time);
        using var run = CancellationTokenSource.CreateLinkedTokenSource(bound.Token, cancellationToken);
        using var speaking = CancellationTokenSource.CreateLinkedTokenSource(run.Token);
        using var socket = new ClientWebSocket();
        Configure(socket.Options);
        var phase = Phase.Connecting;
        Task speech = Task.CompletedTask;
        try
        {
            try
            {
                await socket.ConnectAsync(options.Url, run.Token).ConfigureAwait(false);
            }
            catch (WebSocketException ex) when (!run.IsCancellationRequested)
            {
                return DescribeConnectFailure(result, socket, ex);
            }

            result.ConnectTime = _time.GetElapsedTime(started);
            phase = Phase.Starting;
            await SendTextAsync(socket, StartSession(), run.Token).ConfigureAwait(false);
            await foreach (var frame in ReadFramesAsync(socket, run.Token).ConfigureAwait(false))
            {
                if (frame.IsAudio)
                {
                    if (phase != Phase.Talking)
                    {
                        return result.Fail(ProbeFailure.NotVoiceEndpoint, $"{Host} sent audio before session_started: the WebSocket does not speak the VoiceChat protocol (is the URL's path the voice endpoint?).");
                    }

                    if (result.AudioFrames++ == 0 && Volatile.Read(ref _utteranceEnded) is var ended and not 0)
                    {
                        var elapsed = _time.GetElapsedTime(ended);
                        result.TimeToFirstAudio = elapsed > TimeSpan.Zero ? elapsed : TimeSpan.Zero;
                    }

                    result.AudioBytes += frame.Length;
                    continue;
                }

                if (!TryReadType(frame.Json, out var message, out var type))
                {
                    return result.Fail(ProbeFailure.NotVoiceEndpoint, $"{Host} sent a text frame that is not a VoiceChat message ({Excerpt(frame.Json)}): the WebSocket does not speak the VoiceChat protocol.");
                }

                using (message)
                {
                    var root = message.RootElement;
                    switch (type)
                    {
                        case "error":
                            return ServerError(result, root, phase);
                        case "going_away":
                            return result.Fail(ProbeFailure.Closed, $"the server is shutting down (going_away, reason '{String(root, "reason")}') before the turn ended: probe again once the new revision serves.");
                        case "session_ended":
                            return result.Fail(ProbeFailure.Closed, $"the server ended the session (reason '{String(root, "reason")}') before the turn ended.");
                        case "session_started" when phase == Phase.Starting:
                            result.SessionId = String(root, "session_id");
                            if (root.TryGetProperty("output_sample_rate", out var rate) && rate.TryGetInt32(out var hz) && hz > 0)
                            {
                                result.OutputSampleRate = hz;
                            }

                            phase = Phase.Talking;
                            speech = SpeakAsync(socket, speaking.Token);
                            break;
                        case var _ when phase == Phase.Starting:
                            return result.Fail(ProbeFailure.NotVoiceEndpoint, $"{Host} answered start_session with a '{type}' message instead of session_started: the WebSocket does not speak the VoiceChat protocol.");
                        case "transcript":
                            AddTranscript(result, root);
                            break;
                        case "turn_complete":
                            CloseTranscripts(result);
                            if (result.AudioBytes == 0)
                            {
                                return result.Fail(ProbeFailure.NoAudio, "the model's turn completed without audio: the session works, but the model did not speak (check the server's model and response settings in its logs).");
                            }

                            result.TurnCompleted = true;
                            await speaking.CancelAsync().ConfigureAwait(false);
                            await speech.ConfigureAwait(false);
                            await SayGoodbyeAsync(socket).ConfigureAwait(false);
                            return result;
                    }
                }
            }

            // The server closed the WebSocket.
            result.CloseStatus = socket.CloseStatus is { } status ? (int)status : null;
            var close = string.Create(CultureInfo.InvariantCulture, $"close {result.CloseStatus?.ToString(CultureInfo.InvariantCulture) ?? "without a code"}{(string.IsNullOrEmpty(socket.CloseStatusDescription) ? string.Empty : $" '{socket.CloseStatusDescription}'")}");
            return phase == Phase.Starting
                ? result.Fail(ProbeFailure.Closed, $"{Host} accepted the WebSocket and closed it ({close}) without session_started: the server is not serving the VoiceChat protocol there, or is failing (read its logs).")
                : result.Fail(ProbeFailure.Closed, $"the server closed the WebSocket ({close}) before the turn ended (read its logs).");
        }
        catch (Exception ex) when (ex is OperationCanceledException or WebSocketException or IOException && bound.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            // The run's bound passed; whatever the socket threw on the way is a consequence of that.
            var seconds = options.Timeout.TotalSeconds.ToString("0.#", CultureInfo.InvariantCulture);
            return phase switch
            {
                Phase.Connecting => result.Fail(ProbeFailure.Timeout, $"no WebSocket connection to {Host} within {seconds} s: the host does not answer (firewall, wrong port, or the service is not starting)."),
                Phase.Starting => result.Fail(ProbeFailure.Timeout, $"{Host} accepted the WebSocket but sent no session_started within {seconds} s: the server is not the VoiceChat endpoint, or cannot reach the model service (read its logs)."),
                _ => result.Fail(ProbeFailure.Timeout, string.Create(CultureInfo.InvariantCulture, $"no turn_complete within {seconds} s ({result.AudioSeconds:0.00} s of audio received): the model did not answer the utterance in time (a longer --timeout, --text, or a --wav of real speech may help).")),
            };
        }
        catch (Exception ex) when (ex is WebSocketException or IOException)
        {
            return phase == Phase.Starting
                ? result.Fail(ProbeFailure.Closed, $"{Host} accepted the WebSocket and dropped the connection without session_started ({ex.Message}): the server is not serving the VoiceChat protocol there, or is failing (read its logs).")
                : result.Fail(ProbeFailure.Closed, $"the connection to {Host} was lost before the turn ended ({ex.Message}; read the server's logs).");
        }
        finally
        {
            await speaking.CancelAsync().ConfigureAwait(false);
            await speech.ConfigureAwait(false);
            result.Elapsed = _time.GetElapsedTime(started);
        }
    }

    private string Host => options.Url.IsDefaultPort ? options.Url.Host : $"{options.Url.Host}:{options.Url.Port.ToString(CultureInfo.InvariantCulture)}";

    private void Configure(ClientWebSocketOptions socket)
    {
        socket.CollectHttpResponseDetails = true;
        if (options.Token is { Length: > 0 } token)
        {
            socket.SetRequestHeader("Authorization", $"Bearer {token}");
        }

        if (options.Origin is { Length: > 0 } origin)
        {
            socket.SetRequestHeader("Origin", origin);
        }

        foreach (var (name, value) in options.Headers)
        {
            socket.SetRequestHeader(name, value);
        }
    }

    private string StartSession()
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("type", "start_session");
            if (options.UserId is { } userId)
            {
                json.WriteString("user_id", userId);
            }

            json.WriteNumber("input_sample_rate", options.Utterance.SampleRate);
            json.WriteStartObject("metadata");
            json.WriteString("client", "voicechat-probe");
            json.WriteEndObject();
            json.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    /// <summary>The only writer on the socket while the turn runs: the utterance at real time, then silence.</summary>
    private async Task SpeakAsync(WebSocket socket, CancellationToken cancellationToken)
    {
        try
        {
            var utterance = options.Utterance;
            if (utterance.Text is { } text)
            {
                var buffer = new ArrayBufferWriter<byte>();
                using (var json = new Utf8JsonWriter(buffer))
                {
                    json.WriteStartObject();
                    json.WriteString("type", "text");
                    json.WriteString("text", text);
                    json.WriteEndObject();
                }

                await socket.SendAsync(buffer.WrittenMemory, WebSocketMessageType.Text, true, cancellationToken).ConfigureAwait(false);
                Volatile.Write(ref _utteranceEnded, _time.GetTimestamp());
                return;
            }

            var frameBytes = utterance.SampleRate / 25 * 2;
            var silence = new byte[frameBytes];
            var speechFrames = (utterance.Pcm.Length + frameBytes - 1) / frameBytes;
            var totalFrames = speechFrames + (int)(MaxTrailingSilence / FrameDuration);
            var start = _time.GetTimestamp();
            for (var i = 0; i < totalFrames; i++)
            {
                var due = (FrameDuration * i) - _time.GetElapsedTime(start);
                if (due > TimeSpan.Zero)
                {
                    await Task.Delay(due, _time, cancellationToken).ConfigureAwait(false);
                }

                var offset = i * frameBytes;
                var frame = i < speechFrames
                    ? utterance.Pcm.AsMemory(offset, Math.Min(frameBytes, utterance.Pcm.Length - offset))
                    : silence;
                await socket.SendAsync(frame, WebSocketMessageType.Binary, true, cancellationToken).ConfigureAwait(false);
                if (i == speechFrames - 1)
                {
                    Volatile.Write(ref _utteranceEnded, _time.GetTimestamp());
                }
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or WebSocketException or IOException or ObjectDisposedException)
        {
            // The turn ended, the run was cancelled, or the connection went: the reader reports which.
        }
    }

    /// <summary>Ends the session as a client should; a server that does not answer in time is not a failure of the turn.</summary>
    private static async Task SayGoodbyeAsync(ClientWebSocket socket)
    {
        using var wait = new CancellationTokenSource(GoodbyeWait);
        try
        {
            await SendTextAsync(socket, """{"type":"end_session"}""", wait.Token).ConfigureAwait(false);
            await foreach (var _ in ReadFramesAsync(socket, wait.Token).ConfigureAwait(false))
            {
                // Drains what is left until the server's close.
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or WebSocketException or IOException)
        {
            // The turn is complete; the goodbye is a courtesy.
        }
    }

    private static async Task SendTextAsync(WebSocket socket, string json, CancellationToken cancellationToken) =>
        await socket.SendAsync(Encoding.UTF8.GetBytes(json), WebSocketMessageType.Text, true, cancellationToken).ConfigureAwait(false);

    /// <summary>Whole messages until the server's close frame (answered, then the sequence ends).</summary>
    private static async IAsyncEnumerable<Frame> ReadFramesAsync(ClientWebSocket socket, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var buffer = new byte[64 * 1024];
        while (true)
        {
            var length = 0;
            ValueWebSocketReceiveResult received;
            do
            {
                if (length == buffer.Length)
                {
                    Array.Resize(ref buffer, buffer.Length * 2);
                }

                received = await socket.ReceiveAsync(buffer.AsMemory(length), cancellationToken).ConfigureAwait(false);
                length += received.Count;
            }
            while (!received.EndOfMessage && received.MessageType != WebSocketMessageType.Close);

            if (received.MessageType == WebSocketMessageType.Close)
            {
                await AnswerCloseAsync(socket, cancellationToken).ConfigureAwait(false);
                yield break;
            }

            yield return received.MessageType == WebSocketMessageType.Binary
                ? new Frame(null, length)
                : new Frame(buffer.AsSpan(0, length).ToArray(), length);
        }
    }

    /// <summary>Completes the close handshake; a server that has already dropped the connection does not change what it said.</summary>
    private static async Task AnswerCloseAsync(ClientWebSocket socket, CancellationToken cancellationToken)
    {
        try
        {
            if (socket.State == WebSocketState.CloseReceived)
            {
                await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, string.Empty, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is WebSocketException or IOException)
        {
            // The server's close frame is what counts.
        }
    }

    private static bool TryReadType(byte[]? json, out JsonDocument message, out string type)
    {
        message = null!;
        type = string.Empty;
        try
        {
            message = JsonDocument.Parse(json);
        }
        catch (JsonException)
        {
            return false;
        }

        if (message.RootElement.ValueKind == JsonValueKind.Object && message.RootElement.TryGetProperty("type", out var value) && value.ValueKind == JsonValueKind.String)
        {
            type = value.GetString()!;
            return true;
        }

        message.Dispose();
        return false;
    }

    private static string? String(JsonElement message, string name) =>
        message.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    private static string Excerpt(byte[]? text)
    {
        var value = Encoding.UTF8.GetString(text ?? []);
        return value.Length <= 80 ? $"\"{value}\"" : $"\"{value[..80]}…\"";
    }

    private void AddTranscript(ProbeResult result, JsonElement message)
    {
        var role = String(message, "role") ?? "unknown";
        var text = String(message, "text") ?? string.Empty;
        if (!_openTranscripts.TryGetValue(role, out var open))
        {
            _openTranscripts[role] = open = new StringBuilder();
        }

        // A final transcript carries the whole utterance: it replaces the fragments.
        if (message.TryGetProperty("final", out var final) && final.ValueKind == JsonValueKind.True)
        {
            result.Transcripts.Add(new ProbeTranscript(role, text));
            _openTranscripts.Remove(role);
        }
        else
        {
            open.Append(text);
        }
    }

    private void CloseTranscripts(ProbeResult result)
    {
        foreach (var (role, open) in _openTranscripts)
        {
            if (open.Length > 0)
            {
                result.Transcripts.Add(new ProbeTranscript(role, open.ToString()));
            }
        }

        _openTranscripts.Clear();
    }

    private ProbeResult ServerError(ProbeResult result, JsonElement message, Phase phase)
    {
        var code = String(message, "code") ?? "unknown";
        result.ErrorCode = code;
        var hint = code switch
        {
            "upstream_auth_failed" => " The server's credentials for the model service are refused: check its Gemini API key secret or its service account's Vertex AI role.",
            "upstream_unavailable" or "upstream_timeout" or "upstream_internal" => " The server cannot reach the model service: check its egress and the model service's status.",
            "model_not_found" => " The server's configured model does not exist or does not support live sessions: check VoiceChat:Gemini:Model.",
            "location_not_supported" => " The model service is not available in the server's region: check VoiceChat:Gemini:Location.",
            "quota_exhausted" => " The server's quota at the model service is used up.",
            "server_busy" => " The instance runs its maximum number of sessions.",
            "user_mismatch" => " The token's user differs from --user-id: leave --user-id out.",
            "invalid_message" when phase == Phase.Starting && options.UserId is null => " The server takes anonymous sessions and needs a user id: pass --user-id (or no token).",
            _ => string.Empty,
        };
        return result.Fail(ProbeFailure.ServerError, $"the server sent error '{code}': {String(message, "message")}{hint}");
    }

    private ProbeResult DescribeConnectFailure(ProbeResult result, ClientWebSocket socket, WebSocketException exception)
    {
        var status = (int)socket.HttpStatusCode;
        if (status != 0)
        {
            result.HttpStatus = status;
            return status switch
            {
                401 when options.Token is null => result.Fail(ProbeFailure.Unauthorized, $"{Host} requires authentication (HTTP 401): pass a token the app accepts with --token or the {ProbeOptions.TokenVariable} environment variable."),
                401 => result.Fail(ProbeFailure.Unauthorized, $"{Host} refused the token (HTTP 401{Challenge(socket)}): it is expired, or not issued for this server (issuer, audience)."),
                403 => result.Fail(ProbeFailure.Forbidden, $"{Host} refused the upgrade (HTTP 403): the caller is not allowed (the platform's IAM, or the app's authorization policy), or the server refuses this Origin (see --origin)."),
                404 => result.Fail(ProbeFailure.NotVoiceEndpoint, $"{Host} answered HTTP 404 for {options.Url.AbsolutePath} without a WebSocket upgrade: nothing serves the voice endpoint at this path; check the path (usually /voice) and that the right server is running."),
                >= 300 and < 400 => result.Fail(ProbeFailure.NotVoiceEndpoint, $"{Host} answered HTTP {status} (a redirect{Location(socket)}) instead of a WebSocket upgrade: use the final URL (wss:// for an https:// site)."),
                429 or >= 500 => result.Fail(ProbeFailure.Unavailable, $"{Host} answered HTTP {status} without a WebSocket upgrade: the service is there but not taking connections (starting, overloaded, rate-limited or crashing; read its logs)."),
                _ => result.Fail(ProbeFailure.NotVoiceEndpoint, $"{Host} answered HTTP {status} without a WebSocket upgrade: this is not the VoiceChat endpoint (is the right server running?)."),
            };
        }

        for (Exception? inner = exception; inner is not null; inner = inner.InnerException)
        {
            switch (inner)
            {
                case HttpRequestException { HttpRequestError: HttpRequestError.NameResolutionError }:
                    return result.Fail(ProbeFailure.NameResolution, $"the host name {options.Url.Host} does not resolve (DNS): check the URL.");
                case AuthenticationException or HttpRequestException { HttpRequestError: HttpRequestError.SecureConnectionError }:
                    return result.Fail(ProbeFailure.Tls, $"the TLS handshake with {Host} failed ({Innermost(inner).Message}): the certificate is not trusted or not for this name, or the port serves plain HTTP (then use ws://).");
                case SocketException { SocketErrorCode: SocketError.ConnectionReset }:
                    return result.Fail(ProbeFailure.Connect, $"{Host} reset the connection before answering the upgrade: the server is failing, or is not an HTTP server.");
                case SocketException socketError:
                    return result.Fail(ProbeFailure.Connect, $"cannot connect to {Host} ({socketError.Message}): nothing listens there, or a firewall is in the way; is the server running?");
                case HttpRequestException { HttpRequestError: HttpRequestError.ResponseEnded or HttpRequestError.InvalidResponse } response:
                    return result.Fail(ProbeFailure.Connect, $"{Host} closed the connection without a valid HTTP answer ({response.Message}): is the port a TLS port (then use wss://) or not an HTTP server?");
            }
        }

        return result.Fail(ProbeFailure.Connect, $"cannot open a WebSocket to {Host}: {exception.Message}");
    }

    private static Exception Innermost(Exception exception)
    {
        while (exception.InnerException is { } inner)
        {
            exception = inner;
        }

        return exception;
    }

    private static string Challenge(ClientWebSocket socket) =>
        socket.HttpResponseHeaders?.TryGetValue("WWW-Authenticate", out var values) == true ? $", WWW-Authenticate: {string.Join(", ", values)}" : string.Empty;

    private static string Location(ClientWebSocket socket) =>
        socket.HttpResponseHeaders?.TryGetValue("Location", out var values) == true ? $" to {string.Join(", ", values)}" : string.Empty;

    private readonly record struct Frame(byte[]? Json, int Length)
    {
        public bool IsAudio => Json is null;
    }
}
