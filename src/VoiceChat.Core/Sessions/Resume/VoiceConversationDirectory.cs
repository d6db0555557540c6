using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace VoiceChat.Sessions.Resume;

/// <summary>
/// This process's conversations, by the hash of their current resume token, and the shared store
/// (when configured) that lets another instance take one over.
/// </summary>
internal sealed partial class VoiceConversationDirectory
{
    /// <summary>How long shared resume state lives: Gemini keeps a resumption handle valid for two hours.</summary>
    public static readonly TimeSpan StoreLifetime = TimeSpan.FromHours(2);

    private static readonly TimeSpan StoreTimeout = TimeSpan.FromSeconds(2);

    private readonly ConcurrentDictionary<string, VoiceConversation> _byToken = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<VoiceConversation, byte> _all = new();
    private readonly ILogger _logger;

    public VoiceConversationDirectory(ILogger<VoiceConversationDirectory> logger, IResumeStore? store = null)
    {
        _logger = logger;
        Store = store;
    }

    /// <summary>The shared store, or null when resume is same-instance only.</summary>
    public IResumeStore? Store { get; }

    /// <summary>Conversations alive in this process, with a client connection or waiting for one.</summary>
    public int Count => _all.Count;

    /// <summary>Conversations waiting for their client to come back.</summary>
    public int DetachedCount => _all.Keys.Count(c => c.IsDetached);

    public void Add(VoiceConversation conversation, string tokenKey)
    {
        _all[conversation] = 0;
        _byToken[tokenKey] = conversation;
    }

    /// <summary>Takes the conversation of a token out of the index: a token resumes at most once.</summary>
    public VoiceConversation? TryTake(string tokenKey) =>
        _byToken.TryRemove(tokenKey, out var conversation) && !conversation.HasEnded ? conversation : null;

    public void Index(VoiceConversation conversation, string tokenKey) => _byToken[tokenKey] = conversation;

    public void Remove(VoiceConversation conversation, string? tokenKey)
    {
        _all.TryRemove(conversation, out _);
        if (tokenKey is not null)
        {
            _byToken.TryRemove(new KeyValuePair<string, VoiceConversation>(tokenKey, conversation));
        }
    }

    /// <summary>
    /// Server shutdown: every conversation's state goes to the shared store (so another instance can
    /// resume it) and conversations without a client end; those with one end through their session's
    /// <c>going_away</c>.
    /// </summary>
    public async Task DrainAsync()
    {
        var draining = new List<Task>();
        foreach (var conversation in _all.Keys)
        {
            draining.Add(conversation.GoAwayAsync());
        }

        await Task.WhenAll(draining).ConfigureAwait(false);
    }

    /// <summary>Writes to the shared store, bounded in time; a failure is logged and resume then stays local.</summary>
    public async ValueTask SaveAsync(string tokenKey, ResumeState state)
    {
        if (Store is null)
        {
            return;
        }

        try
        {
            using var timeout = new CancellationTokenSource(StoreTimeout);
            await Store.SaveAsync(tokenKey, state, StoreLifetime, timeout.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            Log.StoreFailed(_logger, state.SessionId, ex.Message);
        }
    }

    public async ValueTask ForgetAsync(string tokenKey, string sessionId)
    {
        if (Store is null)
        {
            return;
        }

        try
        {
            using var timeout = new CancellationTokenSource(StoreTimeout);
            await Store.RemoveAsync(tokenKey, timeout.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            Log.StoreFailed(_logger, sessionId, ex.Message);
        }
    }

    /// <summary>Reads (and deletes) another instance's state for a token; null when absent or the store fails.</summary>
    public async ValueTask<ResumeState?> TakeStoredAsync(string tokenKey, CancellationToken cancellationToken)
    {
        if (Store is null)
        {
            return null;
        }

        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(StoreTimeout);
            return await Store.TakeAsync(tokenKey, timeout.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException && !cancellationToken.IsCancellationRequested)
        {
            Log.StoreFailed(_logger, null, ex.Message);
            return null;
        }
    }

    private static partial class Log
    {
        [LoggerMessage(1601, LogLevel.Warning, "Voice session {SessionId}: the shared resume store failed: {Reason}", EventName = "ResumeStoreFailed")]
        public static partial void StoreFailed(ILogger logger, string? sessionId, string reason);
    }
}
