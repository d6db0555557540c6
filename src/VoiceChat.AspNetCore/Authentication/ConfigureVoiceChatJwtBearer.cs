using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.Extensions.Options;

namespace VoiceChat.AspNetCore.Authentication;

/// <summary>Points the VoiceChat bearer scheme at Firebase Authentication or the configured OpenID Connect issuer.</summary>
internal sealed class ConfigureVoiceChatJwtBearer(IOptions<VoiceChatAuthenticationOptions> options) : IConfigureNamedOptions<JwtBearerOptions>
{
    /// <summary>Firebase Authentication's issuer for a project; it also serves the OpenID Connect discovery document with the signing keys.</summary>
    internal const string FirebaseIssuerPrefix = "https://securetoken.google.com/";

    public void Configure(string? name, JwtBearerOptions bearer)
    {
        if (name != VoiceChatAuthenticationDefaults.BearerScheme)
        {
            return;
        }

        var settings = options.Value;
        if (!string.IsNullOrEmpty(settings.FirebaseProjectId))
        {
            bearer.Authority = FirebaseIssuerPrefix + settings.FirebaseProjectId;
            bearer.TokenValidationParameters.ValidIssuer = bearer.Authority;
            bearer.TokenValidationParameters.ValidAudience = settings.FirebaseProjectId;
        }
        else if (!string.IsNullOrEmpty(settings.Authority))
        {
            bearer.Authority = settings.Authority;
            bearer.Audience = settings.Audience;
        }
    }

    public void Configure(JwtBearerOptions options) => Configure(Options.DefaultName, options);

    /// <summary>Whether the scheme has somewhere to get signing keys from, so that some token can pass.</summary>
    internal static bool CanValidate(JwtBearerOptions bearer) =>
        !string.IsNullOrEmpty(bearer.Authority)
        || !string.IsNullOrEmpty(bearer.MetadataAddress)
        || bearer.Configuration is not null
        || bearer.ConfigurationManager is not null
        || bearer.TokenValidationParameters.IssuerSigningKey is not null
        || bearer.TokenValidationParameters.IssuerSigningKeys?.Any() == true
        || bearer.TokenValidationParameters.IssuerSigningKeyResolver is not null;
}
