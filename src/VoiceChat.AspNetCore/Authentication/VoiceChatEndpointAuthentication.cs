using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace VoiceChat.AspNetCore.Authentication;

/// <summary>The authentication that <c>MapVoiceChat</c> and <c>MapVoiceChatTickets</c> put on their endpoints.</summary>
internal static class VoiceChatEndpointAuthentication
{
    /// <summary>
    /// Unless <c>VoiceChat:AllowAnonymous</c> is true, requires an authenticated user on the voice endpoint,
    /// accepting the app's default scheme, VoiceChat's bearer scheme and tickets, and fails when none is
    /// configured. With anonymous access, a bearer token or ticket that the client presents is still
    /// checked (a valid one makes a verified user, an invalid one gets 401) by <paramref name="pipeline"/>.
    /// </summary>
    public static Action<IEndpointConventionBuilder> ForVoiceEndpoint(IServiceProvider services, IApplicationBuilder pipeline, string pattern)
    {
        if (!services.GetRequiredService<IOptions<VoiceChatOptions>>().Value.AllowAnonymous)
        {
            var schemes = AcceptedSchemes(services, pattern, withTickets: true);
            return endpoint => endpoint.RequireAuthorization(new AuthorizeAttribute { AuthenticationSchemes = schemes });
        }

        var provider = services.GetService<IAuthenticationSchemeProvider>();
        string[] own = [.. VoiceChatSchemes(services, provider, withTickets: true)];
        if (own.Length > 0)
        {
            pipeline.Use((context, next) => AuthenticatePresentedAsync(context, next, own));
        }

        return static _ => { };
    }

    /// <summary>Requires an authenticated user on the ticket endpoint, accepting the app's default scheme and VoiceChat's bearer scheme.</summary>
    public static void ForTicketEndpoint(IServiceProvider services, IEndpointConventionBuilder endpoint, string pattern) =>
        endpoint.RequireAuthorization(new AuthorizeAttribute { AuthenticationSchemes = AcceptedSchemes(services, pattern, withTickets: false) });

    private static async Task AuthenticatePresentedAsync(HttpContext context, RequestDelegate next, string[] schemes)
    {
        if (context.User.Identity?.IsAuthenticated != true)
        {
            foreach (var scheme in schemes)
            {
                var result = await context.AuthenticateAsync(scheme).ConfigureAwait(false);
                if (result.Succeeded)
                {
                    context.User = result.Principal;
                    break;
                }

                if (result.Failure is not null)
                {
                    await context.ChallengeAsync(scheme).ConfigureAwait(false);
                    return;
                }
            }
        }

        await next(context).ConfigureAwait(false);
    }

    /// <summary>The app's default scheme and VoiceChat's usable schemes, comma-separated; throws when none can authenticate a user.</summary>
    private static string AcceptedSchemes(IServiceProvider services, string pattern, bool withTickets)
    {
        var provider = services.GetService<IAuthenticationSchemeProvider>();
        var schemes = new List<string>(3);

        // The provider is in memory: its tasks are complete, and mapping runs once at start-up.
        if (provider?.GetDefaultAuthenticateSchemeAsync().GetAwaiter().GetResult() is { } appDefault)
        {
            schemes.Add(appDefault.Name);
        }

        schemes.AddRange(VoiceChatSchemes(services, provider, withTickets));

        // A ticket is minted for a user that another scheme authenticated, so it never counts alone.
        if (schemes.All(s => s == VoiceChatAuthenticationDefaults.TicketScheme))
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

        return string.Join(',', schemes.Distinct(StringComparer.Ordinal));
    }

    /// <summary>VoiceChat's bearer scheme when it has an issuer or keys, and its ticket scheme when asked for.</summary>
    private static IEnumerable<string> VoiceChatSchemes(IServiceProvider services, IAuthenticationSchemeProvider? provider, bool withTickets)
    {
        if (provider is null)
        {
            yield break;
        }

        if (provider.GetSchemeAsync(VoiceChatAuthenticationDefaults.BearerScheme).GetAwaiter().GetResult() is not null
            && ConfigureVoiceChatJwtBearer.CanValidate(services.GetRequiredService<IOptionsMonitor<JwtBearerOptions>>().Get(VoiceChatAuthenticationDefaults.BearerScheme)))
        {
            yield return VoiceChatAuthenticationDefaults.BearerScheme;
        }

        if (withTickets && provider.GetSchemeAsync(VoiceChatAuthenticationDefaults.TicketScheme).GetAwaiter().GetResult() is not null)
        {
            yield return VoiceChatAuthenticationDefaults.TicketScheme;
        }
    }
}
