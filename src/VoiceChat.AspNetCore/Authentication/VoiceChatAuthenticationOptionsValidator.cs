using Microsoft.Extensions.Options;

namespace VoiceChat.AspNetCore.Authentication;

/// <summary>Checks the authentication options at start-up with messages that name the configuration key.</summary>
internal sealed class VoiceChatAuthenticationOptionsValidator : IValidateOptions<VoiceChatAuthenticationOptions>
{
    public ValidateOptionsResult Validate(string? name, VoiceChatAuthenticationOptions options)
    {
        var builder = new ValidateOptionsResultBuilder();
        if (!string.IsNullOrEmpty(options.FirebaseProjectId) && !string.IsNullOrEmpty(options.Authority))
        {
            builder.AddError("VoiceChat:Authentication: set FirebaseProjectId or Authority, not both.");
        }

        if (!string.IsNullOrEmpty(options.Authority) && string.IsNullOrEmpty(options.Audience))
        {
            builder.AddError("VoiceChat:Authentication:Audience must be set with VoiceChat:Authentication:Authority.");
        }

        if (options.TicketLifetime < TimeSpan.FromSeconds(1) || options.TicketLifetime > TimeSpan.FromMinutes(10))
        {
            builder.AddError($"VoiceChat:Authentication:TicketLifetime is {options.TicketLifetime}; it must be between 00:00:01 and 00:10:00.");
        }

        return builder.Build();
    }
}
