using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace VoiceChat.AspNetCore.Authentication;

/// <summary>The authorisation that <c>MapVoiceChat</c> and <c>MapVoiceChatTickets</c> put on their endpoints.</summary>
internal static class VoiceChatEndpointAuthentication
{
    /// <summary>
    /// Unless <c>VoiceChat:AllowAnonymous</c> is true, requires an authenticated user on the voice endpoint,
    /// accepting the app's default scheme, VoiceChat's bearer scheme and tickets; fails when none is configured.
    /// </summary>
    public static void RequireUserUnlessAnonymous(IServiceProvider services, IEndpointConventionBuilder endpoint, string pattern)
    {
        if (services.GetRequiredService<IOptions<VoiceChatOptions>>().Value.AllowAnonymous)
        {
            return;
        }

        RequireUser(services, endpoint, pattern, withTickets: true);
    }

    /// <summary>Requires an authenticated user on an endpoint, accepting the app's default scheme, VoiceChat's bearer scheme and, when asked, tickets.</summary>
    public static void RequireUser(IServiceProvider services, IEndpointConventionBuilder endpoint, string pattern, bool withTickets)
    {
        var schemes = new List<string>(3);
        var provider = services.GetService<IAuthenticationSchemeProvider>();

        // The provider is in memory: its tasks are complete, and mapping runs once at start-up.
        if (provider?.GetDefaultAuthenticateSchemeAsync().GetAwaiter().GetResult() is { } appDefault)
        {
            schemes.Add(appDefault.Name);
        }

        if (provider?.GetSchemeAsync(VoiceChatAuthenticationDefaults.BearerScheme).GetAwaiter().GetResult() is not null
            && ConfigureVoiceChatJwtBearer.CanValidate(services.GetRequiredService<IOptionsMonitor<JwtBearerOptions>>().Get(VoiceChatAuthenticationDefaults.BearerScheme)))
        {
            schemes.Add(VoiceChatAuthenticationDefaults.BearerScheme);
        }

        // A ticket is minted for a user that one of the schemes above authenticated, so it never counts alone.
        if (schemes.Count == 0)
        {
            throw new InvalidOperationException(
                $"The VoiceChat endpoint '{pattern}' requires an authenticated user, but no authentication is configured. " +
                "Set VoiceChat:Authentication:FirebaseProjectId (Firebase ID tokens), or VoiceChat:Authentication:Authority and " +
                "VoiceChat:Authentication:Audience (any OpenID Connect issuer), with builder.Services.AddVoiceChat().AddAuthentication(); " +
                "or register the app's own default authentication scheme; or set VoiceChat:AllowAnonymous to true to let clients " +
                "connect without authenticating (their user_id is then unverified).");
        }

        if (services.GetService<IAuthorizationPolicyProvider>() is null)
        {
            throw new InvalidOperationException(
                $"The VoiceChat endpoint '{pattern}' requires an authenticated user: call builder.Services.AddAuthorization().");
        }

        if (withTickets && provider?.GetSchemeAsync(VoiceChatAuthenticationDefaults.TicketScheme).GetAwaiter().GetResult() is not null)
        {
            schemes.Add(VoiceChatAuthenticationDefaults.TicketScheme);
        }

        endpoint.RequireAuthorization(new AuthorizeAttribute { AuthenticationSchemes = string.Join(',', schemes.Distinct(StringComparer.Ordinal)) });
    }
}
