using Microsoft.AspNetCore.Http;

namespace VoiceChat.AspNetCore.Hosting;

/// <summary>
/// Which web pages may open sessions: a browser sends its page's <c>Origin</c> with every WebSocket
/// upgrade and the user's cookies along with it, and does not apply CORS to WebSockets. Requests
/// without <c>Origin</c> (native apps) pass; so do pages of the host itself and the configured
/// origins. The framework's <c>WebSocketOptions.AllowedOrigins</c> checks a fixed list only, and the
/// host's own origin is known only per request (behind a proxy that ends TLS the request's scheme
/// differs from the page's), so the host is compared by name and port, as browsers' own
/// same-origin checks for WebSockets in other servers do.
/// </summary>
internal sealed class OriginPolicy
{
    private readonly bool _anyOrigin;
    private readonly HashSet<string> _allowed;

    public OriginPolicy(IEnumerable<string> allowedOrigins)
    {
        _allowed = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var origin in allowedOrigins)
        {
            if (origin == "*")
            {
                _anyOrigin = true;
            }
            else
            {
                _allowed.Add(origin.TrimEnd('/'));
            }
        }
    }

    /// <summary>An entry of <see cref="VoiceChatOptions.AllowedOrigins"/>: <c>*</c>, or scheme, host and port without a path.</summary>
    public static bool IsValidEntry(string? origin) =>
        origin == "*"
        || (Uri.TryCreate(origin, UriKind.Absolute, out var uri)
            && uri.Scheme is "http" or "https"
            && uri.AbsolutePath == "/"
            && string.IsNullOrEmpty(uri.Query)
            && string.IsNullOrEmpty(uri.Fragment)
            && string.IsNullOrEmpty(uri.UserInfo));

    public bool IsAllowed(HttpRequest request)
    {
        var origin = request.Headers.Origin;
        if (origin.Count == 0 || _anyOrigin)
        {
            return true;
        }

        if (origin.Count > 1)
        {
            return false;
        }

        var value = origin.ToString();
        return _allowed.Contains(value) || IsSameHost(value, request.Host);
    }

    private static bool IsSameHost(string origin, HostString host)
    {
        if (!host.HasValue || !Uri.TryCreate(origin, UriKind.Absolute, out var uri))
        {
            return false;
        }

        // The origin's default port is left out of both the origin and the Host header.
        var originHost = uri.IsDefaultPort ? uri.Host : $"{uri.Host}:{uri.Port}";
        return string.Equals(originHost, host.Value, StringComparison.OrdinalIgnoreCase);
    }
}
