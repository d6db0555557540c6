using Google.Apis.Auth.OAuth2;
using Microsoft.Extensions.Options;

namespace VoiceChat.Live.Gemini;

/// <summary>Mints OAuth2 access tokens for Vertex AI. Called once per (re)connection.</summary>
internal interface IAccessTokenSource
{
    /// <summary>A currently valid access token with the <c>cloud-platform</c> scope.</summary>
    ValueTask<string> GetAccessTokenAsync(CancellationToken cancellationToken);
}

/// <summary>A credential the application supplied (<c>UseGoogleCredential</c>).</summary>
internal sealed record GoogleCredentialRegistration(GoogleCredential Credential);

/// <summary>
/// Access tokens from Google credentials: the application's own credential if it supplied one, else
/// <see cref="GeminiOptions.CredentialsFile"/>, else Application Default Credentials. The credential
/// is loaded once; it caches and refreshes its token itself.
/// </summary>
internal sealed class GoogleCredentialTokenSource : IAccessTokenSource
{
    private const string CloudPlatformScope = "https://www.googleapis.com/auth/cloud-platform";

    private readonly GoogleCredentialRegistration? _registration;
    private readonly IOptions<VoiceChatOptions> _options;
    private Task<ITokenAccess>? _loading;

    public GoogleCredentialTokenSource(IOptions<VoiceChatOptions> options, GoogleCredentialRegistration? registration = null)
    {
        _options = options;
        _registration = registration;
    }

    public async ValueTask<string> GetAccessTokenAsync(CancellationToken cancellationToken)
    {
        var loading = Volatile.Read(ref _loading);
        if (loading is null)
        {
            var started = LoadAsync();
            loading = Interlocked.CompareExchange(ref _loading, started, null) ?? started;
        }

        ITokenAccess credential;
        try
        {
            credential = await loading.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception) when (loading.IsFaulted || loading.IsCanceled)
        {
            // Try loading again next time (the file or the metadata server may come back).
            _ = Interlocked.CompareExchange(ref _loading, null, loading);
            throw;
        }

        return await credential.GetAccessTokenForRequestAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
    }

    private async Task<ITokenAccess> LoadAsync()
    {
        var credential = _registration?.Credential ?? await LoadConfiguredAsync(CancellationToken.None).ConfigureAwait(false);
        if (credential.IsCreateScopedRequired)
        {
            credential = credential.CreateScoped(CloudPlatformScope);
        }

        return credential.UnderlyingCredential;
    }

    private async Task<GoogleCredential> LoadConfiguredAsync(CancellationToken cancellationToken)
    {
        var file = _options.Value.Gemini.CredentialsFile;
        if (string.IsNullOrWhiteSpace(file))
        {
            return await GoogleCredential.GetApplicationDefaultAsync(cancellationToken).ConfigureAwait(false);
        }

        // The file says what kind of credential it holds; CredentialFactory wants to be told.
        string? type;
        await using (var stream = File.OpenRead(file))
        {
            using var document = await System.Text.Json.JsonDocument.ParseAsync(stream, cancellationToken: cancellationToken).ConfigureAwait(false);
            type = document.RootElement.TryGetProperty("type", out var t) ? t.GetString() : null;
        }

        if (string.IsNullOrEmpty(type))
        {
            throw new InvalidOperationException($"The credential file named by {VoiceChatOptions.SectionName}:Gemini:CredentialsFile has no \"type\".");
        }

        return await CredentialFactory.FromFileAsync(file, type, cancellationToken).ConfigureAwait(false);
    }
}
