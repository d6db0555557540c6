using Microsoft.Extensions.Options;

namespace VoiceChat.AspNetCore.Hosting;

/// <summary>Checks the server options at start-up with messages that name the configuration key.</summary>
internal sealed class VoiceChatOptionsValidator : IValidateOptions<VoiceChatOptions>
{
    public ValidateOptionsResult Validate(string? name, VoiceChatOptions options)
    {
        var builder = new ValidateOptionsResultBuilder();
        Range(builder, "MaxFrameBytes", options.MaxFrameBytes, 1024, 16 * 1024 * 1024);
        Range(builder, "MaxConcurrentSessions", options.MaxConcurrentSessions, 1, 1_000_000);
        Range(builder, "MaxPendingConnections", options.MaxPendingConnections, 1, 1_000_000);
        Range(builder, "MaxSessionsPerUser", options.MaxSessionsPerUser, 1, 1_000_000);
        Range(builder, "MaxSessionStartsPerMinute", options.MaxSessionStartsPerMinute, 1, 1_000_000);
        Range(builder, "MaxSessionStartsPerMinutePerAddress", options.MaxSessionStartsPerMinutePerAddress, 1, 1_000_000);
        Range(builder, "MaxTextMessagesPerMinute", options.MaxTextMessagesPerMinute, 1, 100_000);
        Range(builder, "MaxVideoFrameBytes", options.MaxVideoFrameBytes, 1024, 4 * 1024 * 1024);
        Range(builder, "MaxVideoFramesPerSecond", options.MaxVideoFramesPerSecond, 0, 30);
        Range(builder, "MaxAudioAheadOfRealTime", options.MaxAudioAheadOfRealTime, TimeSpan.FromMilliseconds(100), TimeSpan.FromMinutes(10));
        Range(builder, "SendTimeout", options.SendTimeout, TimeSpan.FromMilliseconds(100), TimeSpan.FromMinutes(10));
        Range(builder, "StartTimeout", options.StartTimeout, TimeSpan.FromMilliseconds(100), TimeSpan.FromMinutes(10));
        Range(builder, "IdleTimeout", options.IdleTimeout, TimeSpan.FromSeconds(1), TimeSpan.FromDays(1));
        Range(builder, "MaxSessionDuration", options.MaxSessionDuration, TimeSpan.FromSeconds(1), TimeSpan.FromDays(1));
        Range(builder, "CloseTimeout", options.CloseTimeout, TimeSpan.Zero, TimeSpan.FromMinutes(1));
        Range(builder, "KeepAliveInterval", options.KeepAliveInterval, TimeSpan.Zero, TimeSpan.FromMinutes(10));
        Range(builder, "KeepAliveTimeout", options.KeepAliveTimeout, TimeSpan.Zero, TimeSpan.FromMinutes(10));
        if (options.AllowedOrigins is null)
        {
            builder.AddError("VoiceChat:AllowedOrigins must not be null.");
        }
        else
        {
            foreach (var origin in options.AllowedOrigins)
            {
                if (!OriginPolicy.IsValidEntry(origin))
                {
                    builder.AddError($"VoiceChat:AllowedOrigins holds '{origin}'; each entry must be '*' or an origin such as 'https://app.example.com' (scheme, host and optional port, no path).");
                }
            }
        }

        if (options.Gemini is null)
        {
            builder.AddError("VoiceChat:Gemini must not be null.");
        }

        if (options.Resume is null)
        {
            builder.AddError("VoiceChat:Resume must not be null.");
        }
        else
        {
            Range(builder, "Resume:Window", options.Resume.Window, TimeSpan.Zero, TimeSpan.FromHours(2));
            Range(builder, "Resume:BufferBytes", options.Resume.BufferBytes, 64 * 1024, 256 * 1024 * 1024);
            Range(builder, "Resume:AckInterval", options.Resume.AckInterval, TimeSpan.FromMilliseconds(10), TimeSpan.FromSeconds(10));
        }

        if (options.Events is null)
        {
            builder.AddError("VoiceChat:Events must not be null.");
        }
        else
        {
            Range(builder, "Events:QueueCapacity", options.Events.QueueCapacity, 1, 1_000_000);
            Range(builder, "Events:DrainTimeout", options.Events.DrainTimeout, TimeSpan.Zero, TimeSpan.FromMinutes(5));
        }

        return builder.Build();
    }

    private static void Range<T>(ValidateOptionsResultBuilder builder, string key, T value, T min, T max)
        where T : IComparable<T>
    {
        if (value.CompareTo(min) < 0 || value.CompareTo(max) > 0)
        {
            builder.AddError($"VoiceChat:{key} is {value}; it must be between {min} and {max}.");
        }
    }
}
