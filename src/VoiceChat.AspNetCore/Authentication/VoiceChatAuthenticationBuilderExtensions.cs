using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using VoiceChat;
using VoiceChat.AspNetCore;
using VoiceChat.AspNetCore.Authentication;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Decides who may open a voice session: bearer tokens (Firebase or any OpenID Connect issuer) and tickets for browsers.</summary>
public static class VoiceChatAuthenticationBuilderExtensions
{
    /// <summary>The hosting log category whose request logs carry the URL's query string, and so a ticket.</summary>
    internal const string RequestLogCategory = "Microsoft.AspNetCore.Hosting.Diagnostics";

    /// <summary>
    /// Adds VoiceChat's authentication, configured from <c>VoiceChat:Authentication</c>: the bearer scheme
    /// <see cref="VoiceChatAuthenticationDefaults.BearerScheme"/> (ASP.NET Core's JwtBearer handler, for
    /// Firebase ID tokens with <c>FirebaseProjectId</c> or any issuer with <c>Authority</c> and <c>Audience</c>)
    /// and the ticket scheme <see cref="VoiceChatAuthenticationDefaults.TicketScheme"/> for browsers
    /// (tickets come from <c>app.MapVoiceChatTickets(…)</c>). <c>MapVoiceChat</c> then accepts either, as well
    /// as the app's own default scheme. Request logs of <c>Microsoft.AspNetCore.Hosting.Diagnostics</c> are
    /// capped at Warning, since they would log a ticket with the URL. Change the bearer scheme further with
    /// <c>services.Configure&lt;JwtBearerOptions&gt;(VoiceChatAuthenticationDefaults.BearerScheme, …)</c>.
    /// </summary>
    /// <param name="builder">The VoiceChat builder.</param>
    /// <param name="configure">Changes the options after configuration is bound.</param>
    /// <returns>The builder, for chaining.</returns>
    public static IVoiceChatBuilder AddAuthentication(this IVoiceChatBuilder builder, Action<VoiceChatAuthenticationOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var services = builder.Services;
        var first = !services.Any(d => d.ServiceType == typeof(VoiceChatTicketService));
        var options = services.AddOptions<VoiceChatAuthenticationOptions>();
        if (first)
        {
            options.BindConfiguration(VoiceChatAuthenticationOptions.SectionName).ValidateOnStart();
        }

        if (configure is not null)
        {
            options.Configure(configure);
        }

        if (!first)
        {
            return builder; // Schemes are registered once; a later call only adds its configuration.
        }

        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<VoiceChatAuthenticationOptions>, VoiceChatAuthenticationOptionsValidator>());
        services.AddAuthentication()
            .AddJwtBearer(VoiceChatAuthenticationDefaults.BearerScheme, static _ => { })
            .AddScheme<AuthenticationSchemeOptions, VoiceChatTicketHandler>(VoiceChatAuthenticationDefaults.TicketScheme, configureOptions: null);
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IConfigureOptions<JwtBearerOptions>, ConfigureVoiceChatJwtBearer>());
        services.AddAuthorization();
        services.AddDataProtection();
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<VoiceChatTicketService>();
        services.Configure<LoggerFilterOptions>(o => o.AddFilter(RequestLogCategory, LogLevel.Warning));
        return builder;
    }

    /// <summary>
    /// Accepts Firebase Authentication ID tokens of <paramref name="projectId"/> in <c>Authorization: Bearer</c>
    /// (what <c>FirebaseAuth.instance.currentUser.getIdToken()</c> returns in a Flutter app); the user is the
    /// token's <c>sub</c>. The same as <see cref="AddAuthentication"/> with <c>VoiceChat:Authentication:FirebaseProjectId</c>.
    /// </summary>
    /// <param name="builder">The VoiceChat builder.</param>
    /// <param name="projectId">The Firebase (Google Cloud) project id.</param>
    /// <returns>The builder, for chaining.</returns>
    public static IVoiceChatBuilder AddFirebaseAuthentication(this IVoiceChatBuilder builder, string projectId)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(projectId);
        return builder.AddAuthentication(o =>
        {
            o.FirebaseProjectId = projectId;
            o.Authority = null;
        });
    }

    /// <summary>
    /// Accepts JWTs of any OpenID Connect issuer in <c>Authorization: Bearer</c> (signing keys from the issuer's
    /// discovery document); the user is the token's <c>sub</c>. The same as <see cref="AddAuthentication"/> with
    /// <c>VoiceChat:Authentication:Authority</c> and <c>Audience</c>.
    /// </summary>
    /// <param name="builder">The VoiceChat builder.</param>
    /// <param name="authority">The issuer, for example <c>https://login.example.com/</c>.</param>
    /// <param name="audience">The audience tokens must be issued for.</param>
    /// <returns>The builder, for chaining.</returns>
    public static IVoiceChatBuilder AddJwtBearerAuthentication(this IVoiceChatBuilder builder, string authority, string audience)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(authority);
        ArgumentException.ThrowIfNullOrWhiteSpace(audience);
        return builder.AddAuthentication(o =>
        {
            o.FirebaseProjectId = null;
            o.Authority = authority;
            o.Audience = audience;
        });
    }
}
