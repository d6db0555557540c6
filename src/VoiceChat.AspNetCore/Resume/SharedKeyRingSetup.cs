using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.AspNetCore.DataProtection.StackExchangeRedis;
using Microsoft.Extensions.Options;

namespace VoiceChat.AspNetCore.Resume;

/// <summary>
/// With <c>VoiceChat:Resume:Redis</c> set, the Data Protection key ring lives in that Redis and every
/// instance uses the same application name, so what one instance protects (tickets, cookies) another
/// can read. An app that configured a key repository of its own keeps it.
/// </summary>
internal sealed class SharedKeyRingSetup : IConfigureOptions<KeyManagementOptions>, IConfigureOptions<DataProtectionOptions>
{
    private const string KeyRingKey = "voicechat:dataprotection:keys";

    private readonly IOptions<VoiceChatOptions> _options;
    private readonly RedisConnection _redis;

    public SharedKeyRingSetup(IOptions<VoiceChatOptions> options, RedisConnection redis)
    {
        _options = options;
        _redis = redis;
    }

    private bool Shared => !string.IsNullOrWhiteSpace(_options.Value.Resume.Redis);

    public void Configure(KeyManagementOptions options)
    {
        if (Shared && options.XmlRepository is null)
        {
            options.XmlRepository = new RedisXmlRepository(_redis.GetDatabase, KeyRingKey);
        }
    }

    public void Configure(DataProtectionOptions options)
    {
        if (Shared && string.IsNullOrEmpty(options.ApplicationDiscriminator))
        {
            options.ApplicationDiscriminator = "VoiceChat";
        }
    }
}
