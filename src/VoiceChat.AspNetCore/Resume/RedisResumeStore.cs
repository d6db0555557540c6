using System.Text.Json;
using Microsoft.Extensions.Options;
using StackExchange.Redis;
using VoiceChat.Sessions.Resume;

namespace VoiceChat.AspNetCore.Resume;

/// <summary>
/// Resume state in Redis (<c>VoiceChat:Resume:Redis</c>): one string key per resume token hash,
/// expiring with the model's resumption handle, read and deleted in one command (GETDEL) so that a
/// token resumes at most once across every instance.
/// </summary>
internal sealed class RedisResumeStore : IResumeStore
{
    private const string KeyPrefix = "voicechat:resume:";

    private readonly RedisConnection _redis;

    public RedisResumeStore(RedisConnection redis) => _redis = redis;

    public async ValueTask SaveAsync(string tokenKey, ResumeState state, TimeSpan lifetime, CancellationToken cancellationToken)
    {
        var json = JsonSerializer.SerializeToUtf8Bytes(state, ResumeStateJsonContext.Default.ResumeState);
        var database = await _redis.GetDatabaseAsync(cancellationToken).ConfigureAwait(false);
        await database.StringSetAsync(KeyPrefix + tokenKey, json, lifetime).WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask<ResumeState?> TakeAsync(string tokenKey, CancellationToken cancellationToken)
    {
        var database = await _redis.GetDatabaseAsync(cancellationToken).ConfigureAwait(false);
        var value = await database.StringGetDeleteAsync(KeyPrefix + tokenKey).WaitAsync(cancellationToken).ConfigureAwait(false);
        return value.IsNullOrEmpty ? null : JsonSerializer.Deserialize((byte[])value!, ResumeStateJsonContext.Default.ResumeState);
    }

    public async ValueTask RemoveAsync(string tokenKey, CancellationToken cancellationToken)
    {
        var database = await _redis.GetDatabaseAsync(cancellationToken).ConfigureAwait(false);
        await database.KeyDeleteAsync(KeyPrefix + tokenKey).WaitAsync(cancellationToken).ConfigureAwait(false);
    }
}

/// <summary>
/// One connection to the Redis of <c>VoiceChat:Resume:Redis</c> for the process, opened on first use
/// and kept (StackExchange.Redis multiplexes every command over it and reconnects by itself).
/// </summary>
internal sealed class RedisConnection : IAsyncDisposable
{
    private readonly Lazy<Task<ConnectionMultiplexer>> _connection;

    public RedisConnection(IOptions<VoiceChatOptions> options)
    {
        var configuration = options.Value.Resume.Redis;
        _connection = new Lazy<Task<ConnectionMultiplexer>>(() => ConnectAsync(configuration!));
    }

    public async Task<IDatabase> GetDatabaseAsync(CancellationToken cancellationToken) =>
        (await _connection.Value.WaitAsync(cancellationToken).ConfigureAwait(false)).GetDatabase();

    /// <summary>For Data Protection's key ring, which asks synchronously.</summary>
    public IDatabase GetDatabase() => _connection.Value.GetAwaiter().GetResult().GetDatabase();

    public async ValueTask DisposeAsync()
    {
        if (_connection.IsValueCreated && _connection.Value.IsCompletedSuccessfully)
        {
            await (await _connection.Value.ConfigureAwait(false)).DisposeAsync().ConfigureAwait(false);
        }
    }

    private static Task<ConnectionMultiplexer> ConnectAsync(string configuration)
    {
        var options = ConfigurationOptions.Parse(configuration);
        options.AbortOnConnectFail = false; // an instance starts while Redis restarts; commands wait for the reconnect
        return ConnectionMultiplexer.ConnectAsync(options);
    }
}
