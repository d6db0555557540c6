using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;

namespace VoiceChat.Live.WebSockets;

/// <summary>
/// Opens a client WebSocket (RFC 6455, section 4) through an <see cref="HttpMessageInvoker"/>: the
/// HTTP/1.1 upgrade request goes out on the invoker's handler (its proxy, TLS and connection settings
/// apply, as they do to <c>ClientWebSocket.ConnectAsync(uri, invoker, …)</c>), and the upgraded
/// connection becomes an <see cref="UpstreamWebSocket"/>.
/// </summary>
internal static class WebSocketUpgrade
{
    private const string AcceptGuid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

    /// <summary>Connects; throws <see cref="WebSocketUpgradeException"/> when the server refuses the upgrade.</summary>
    /// <param name="uri">A <c>ws://</c> or <c>wss://</c> URL.</param>
    /// <param name="invoker">The HTTP handler the connection goes through.</param>
    /// <param name="headers">Extra request headers (credentials).</param>
    /// <param name="options">The keep-alive and the message size limit of the connection.</param>
    /// <param name="time">The clock of the keep-alive.</param>
    /// <param name="cancellationToken">Cancels the connect.</param>
    public static async Task<UpstreamWebSocket> ConnectAsync(
        Uri uri,
        HttpMessageInvoker invoker,
        IEnumerable<KeyValuePair<string, string>> headers,
        UpstreamWebSocketOptions options,
        TimeProvider time,
        CancellationToken cancellationToken)
    {
        var httpUri = new UriBuilder(uri)
        {
            Scheme = uri.Scheme switch
            {
                "ws" => "http",
                "wss" => "https",
                _ => throw new ArgumentException($"A WebSocket URL uses ws or wss, not '{uri.Scheme}'.", nameof(uri)),
            },
            Port = uri.IsDefaultPort ? -1 : uri.Port,
        }.Uri;

        var key = Convert.ToBase64String(RandomNumberGenerator.GetBytes(16));
        using var request = new HttpRequestMessage(HttpMethod.Get, httpUri)
        {
            Version = HttpVersion.Version11,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
        };
        request.Headers.Connection.Add("Upgrade");
        request.Headers.Upgrade.Add(new ProductHeaderValue("websocket"));
        request.Headers.TryAddWithoutValidation("Sec-WebSocket-Version", "13");
        request.Headers.TryAddWithoutValidation("Sec-WebSocket-Key", key);
        foreach (var (name, value) in headers)
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }

        var response = await invoker.SendAsync(request, cancellationToken).ConfigureAwait(false);
        try
        {
            if (response.StatusCode != HttpStatusCode.SwitchingProtocols)
            {
                throw new WebSocketUpgradeException(response.StatusCode, $"the server answered the upgrade with HTTP {(int)response.StatusCode}");
            }

            if (!response.Headers.Upgrade.Any(p => string.Equals(p.Name, "websocket", StringComparison.OrdinalIgnoreCase))
                || !response.Headers.Connection.Any(c => string.Equals(c, "Upgrade", StringComparison.OrdinalIgnoreCase)))
            {
                throw new WebSocketUpgradeException(response.StatusCode, "the server's 101 answer does not upgrade to websocket");
            }

            if (!response.Headers.TryGetValues("Sec-WebSocket-Accept", out var accepts) || accepts.SingleOrDefault() != AcceptFor(key))
            {
                throw new WebSocketUpgradeException(response.StatusCode, "the server's Sec-WebSocket-Accept does not match the key sent");
            }

            // No extension and no subprotocol was asked for (RFC 6455, 4.1): one in the answer would
            // change the frames (compression sets a reserved bit) or the messages.
            if (Named(response, "Sec-WebSocket-Extensions") is { } extension)
            {
                throw new WebSocketUpgradeException(response.StatusCode, $"the server's 101 answer names the extension '{extension}' in Sec-WebSocket-Extensions, which was not asked for");
            }

            if (Named(response, "Sec-WebSocket-Protocol") is { } subprotocol)
            {
                throw new WebSocketUpgradeException(response.StatusCode, $"the server's 101 answer names the subprotocol '{subprotocol}' in Sec-WebSocket-Protocol, which was not asked for");
            }

            var stream = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
            return new UpstreamWebSocket(stream, options, time);
        }
        catch
        {
            response.Dispose();
            throw;
        }
    }

    /// <summary>The <c>Sec-WebSocket-Accept</c> a server answers <paramref name="key"/> with.</summary>
    [System.Diagnostics.CodeAnalysis.SuppressMessage("Security", "CA5350", Justification = "RFC 6455 defines the accept value with SHA-1; it is a handshake check, not a protection.")]
    public static string AcceptFor(string key) =>
        Convert.ToBase64String(SHA1.HashData(Encoding.ASCII.GetBytes(key + AcceptGuid)));

    // What a header of the answer names, or null when it is absent or empty.
    private static string? Named(HttpResponseMessage response, string header) =>
        response.Headers.TryGetValues(header, out var values) && string.Join(", ", values.Where(v => !string.IsNullOrWhiteSpace(v))) is { Length: > 0 } named
            ? named
            : null;
}

/// <summary>The server did not upgrade the connection to a WebSocket.</summary>
internal sealed class WebSocketUpgradeException(HttpStatusCode statusCode, string message) : IOException(message)
{
    /// <summary>The HTTP status of the server's answer (101 when the answer was malformed).</summary>
    public HttpStatusCode StatusCode { get; } = statusCode;
}
